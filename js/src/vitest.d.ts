export default function setup(project?: { provide?: (key: string, value: unknown) => void }): Promise<() => Promise<void>>;
