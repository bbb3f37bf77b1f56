export default function globalHook(): Promise<void>;
