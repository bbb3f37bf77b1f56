/** @type {import("next").NextConfig} */
export default {
  // The examples folder above has its own lock file: this app's root is this folder.
  turbopack: { root: import.meta.dirname },
  outputFileTracingRoot: import.meta.dirname,
};
