export function humanize(key: string): string;
export function formSchema(schema: Record<string, unknown>, schemas?: Record<string, unknown>, depth?: number): Record<string, unknown>;
export function buildForms(): {
  commands: { name: string; label: string; description: string; schema: Record<string, unknown> }[];
  bodies: Record<string, Record<string, unknown>>;
};
