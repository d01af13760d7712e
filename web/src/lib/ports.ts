// Which output types an input port accepts (docs/api.md, docs/flow-format.md).
import type { PortType } from "../api/types";

const EXTRA_ACCEPTS: Record<PortType, readonly PortType[]> = {
  text: ["number", "boolean"],
  number: [],
  boolean: [],
  json: ["text", "number", "boolean"],
  image: [],
  image_list: ["image"],
  any: ["text", "number", "boolean", "json", "image", "image_list"],
};

export function accepts(input: PortType, output: PortType): boolean {
  if (output === input || output === "any" || input === "any") return true;
  return EXTRA_ACCEPTS[input]?.includes(output) ?? false;
}

/** "a text", "an image": the article a word takes (by its first letter, as the server does). */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? "an" : "a"} ${word}`;
}

/** Why an edge is refused, in words a user can act on. */
export function refusal(output: PortType, input: PortType): string {
  return `${output} output cannot feed ${withArticle(input)} input`;
}

export const PORT_TYPE_LABEL: Record<PortType, string> = {
  text: "text",
  number: "number",
  boolean: "boolean",
  json: "JSON",
  image: "image",
  image_list: "image list",
  any: "any",
};
