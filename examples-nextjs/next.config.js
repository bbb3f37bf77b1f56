/** @type {import("next").NextConfig} */
export default {
  // One npm workspace for the repository: next and its dependencies are installed in the
  // node_modules of the root, one folder up, which must be inside turbopack's root.
  turbopack: { root: import.meta.dirname + "/.." },
  outputFileTracingRoot: import.meta.dirname + "/..",
};
