// The fields a flow's HTTP Trigger declares: the columns a batch's rows file has.
import type { FlowDocument, JsonValue } from "../api/types";

export interface TriggerField {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

function field(value: JsonValue): TriggerField | null {
  if (!value || typeof value !== "object" || Array.isArray(value) || typeof value["name"] !== "string") return null;
  return {
    name: value["name"],
    type: typeof value["type"] === "string" ? value["type"] : "text",
    required: value["required"] !== false,
    description: typeof value["description"] === "string" ? value["description"] : "",
  };
}

/** Each HTTP Trigger of `doc` with its fields, in document order. */
export function triggerFields(doc: FlowDocument): { id: string; fields: TriggerField[] }[] {
  return doc.nodes
    .filter((n) => n.type === "http_trigger")
    .map((n) => {
      const list = n.config?.["fields"];
      return { id: n.id, fields: Array.isArray(list) ? list.map(field).filter((f): f is TriggerField => f !== null) : [] };
    });
}

/** A rows file to fill in: the header line, one column per field (names need no quoting). */
export function templateCsv(fields: readonly TriggerField[]): string {
  return `${fields.map((f) => f.name).join(",")}\r\n`;
}
