// The API's types. The answers' and request bodies' shapes are generated from the
// server's OpenAPI document (./schema.d.ts, made by `npm run api-types` from ./openapi.json,
// which `python -m plait.api.openapi_dump` writes; docs/canvas.md): never edit those by hand.
// Hand-written here: the flow document's structure (docs/flow-format.md), JSON Schema, the
// run events streamed as server-sent events, and narrower views the canvas relies on.

import type { components } from "./schema";

type Schemas = components["schemas"];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ---- flow document (docs/flow-format.md) ----

export interface FlowNodeDoc {
  id: string;
  type: string;
  label?: string;
  config: JsonObject;
  position?: { x: number; y: number };
}

export interface FlowEdgeDoc {
  from: string; // "node.port"
  to: string; // "node.port"
}

export interface FlowDocument {
  format: number;
  name: string;
  description?: string;
  nodes: FlowNodeDoc[];
  edges: FlowEdgeDoc[];
}

// ---- auth ----

export type User = Schemas["User"];
export type AuthState = Schemas["AuthState"];
export type LoginAnswer = Schemas["SignedIn"];
export type TokenScope = Schemas["ApiTokenSummary"]["scopes"][number];
export type ApiTokenSummary = Schemas["ApiTokenSummary"];
export type ApiTokenCreated = Schemas["ApiTokenCreated"];
export type NewApiToken = Schemas["NewToken"];

// ---- catalog ----

export type PortType = Schemas["Port"]["type"];
export type Port = Schemas["Port"];

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: JsonValue;
  enum?: JsonValue[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
}

/** A node type, with its config schema as JSON Schema and its default config as JSON. */
export type NodeTypeInfo = Omit<Schemas["NodeTypeInfo"], "config_schema" | "default_config"> & {
  config_schema: JsonSchema;
  default_config?: JsonObject | null;
};

/** A catalog model as the canvas uses it (`normalizeModels` in ./client.ts makes it). */
export interface ModelInfo {
  id: string;
  label: string;
  /** preview, ga, deprecated (runs, with a warning) or shut_down (refused). */
  lifecycle: string;
  successor: string | null;
  /** ISO dates, when known. */
  deprecated: string | null;
  shutdown: string | null;
  /** Whether the server's Gemini key lists this model (models.list); null when not known. */
  available: boolean | null;
  aspect_ratios: string[];
  image_sizes: string[];
  max_references: number;
  prices: JsonObject;
}

export type ModelCatalog = Omit<Schemas["ModelCatalog"], "models"> & { models: ModelInfo[] };
export type Problem = Schemas["Problem"];
export type BatchEstimate = Schemas["BatchEstimate"];
export type BatchEstimateAnswer = Schemas["BatchEstimateAnswer"];
export type BatchRowStatus = Schemas["BatchRow"]["status"];
export type BatchSummary = Schemas["BatchSummary"];
export type BatchRow = Omit<Schemas["BatchRow"], "given"> & { given: JsonObject };
export type BatchDetail = Omit<Schemas["BatchDetail"], "rows"> & { rows: BatchRow[] };
export type NodePorts = Schemas["NodePorts"];
export type ValidateAnswer = Schemas["ValidateAnswer"];

// ---- flows ----

export type FlowSummary = Schemas["FlowSummary"];
export type TriggerEndpoint = Schemas["TriggerEndpoint"];
export type Publication = Schemas["Publication"];
export type FlowDetail = Omit<Schemas["FlowDetail"], "document"> & { document: FlowDocument };
export type VersionSummary = Schemas["VersionSummary"];
export type VersionDetail = Omit<Schemas["VersionDetail"], "document"> & { document: FlowDocument };
/** The exact document a run ran: a saved version, or an unsaved draft (`flow_version` null). */
export type RunDocument = Omit<Schemas["RunDocument"], "document"> & { document: FlowDocument | null };
export type FieldChange = Omit<Schemas["FieldChange"], "before" | "after"> & {
  before: JsonValue;
  after: JsonValue;
};
export type FlowDiff = Omit<Schemas["FlowDiff"], "nodes"> & {
  nodes: Omit<Schemas["NodeChanges"], "changed"> & { changed: { id: string; changes: FieldChange[] }[] };
};
export type Template = Omit<Schemas["Template"], "document"> & { document: FlowDocument };
export type CodeExamples = Schemas["CodeExamples"];

// ---- runs ----

export interface ImageRef {
  sha256: string;
  media_type: string;
  width: number;
  height: number;
  size: number;
}

/** An image as runs show it: the reference plus a signed URL. */
export interface RunImage {
  $image: ImageRef;
  url?: string;
}

export type UploadAnswer = Omit<Schemas["UploadAnswer"], "image"> & { image: { $image: ImageRef } };
export type RunStatus = Schemas["RunSummary"]["status"];
export type NodeRunStatus = Schemas["NodeRunRecord"]["status"];
export type RunSummary = Omit<Schemas["RunSummary"], "inputs"> & { inputs: JsonValue };
export type NodeRunRecord = Omit<Schemas["NodeRunRecord"], "inputs" | "outputs"> & {
  inputs: JsonValue;
  outputs: JsonValue;
};
export type RunDetail = Omit<Schemas["RunDetail"], "inputs" | "result" | "nodes"> & {
  inputs: JsonValue;
  result: JsonValue;
  nodes: NodeRunRecord[];
};

export type RunEventKind =
  | "run_started"
  | "node_started"
  | "node_finished"
  | "node_cached"
  | "node_failed"
  | "node_skipped"
  | "run_finished";

export interface RunEvent {
  kind: RunEventKind;
  run_id: string;
  node_id: string | null;
  at: string | number;
  outputs?: JsonValue;
  duration_ms?: number;
  cost_usd?: number | null;
  backend?: string | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  error?: string | null;
  port?: string | null;
  reason?: string | null;
  status?: RunStatus;
}

// ---- settings ----

export type Settings = Schemas["Settings"];
