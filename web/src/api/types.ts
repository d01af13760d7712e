// Types mirroring docs/api.md and docs/flow-format.md. Keep them in step with the server.

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

export interface User {
  id: string | number;
  email: string;
  is_admin: boolean;
}

export interface AuthState {
  setup_required: boolean;
  user: User | null;
  csrf_token: string | null;
}

export interface LoginAnswer {
  user: User;
  csrf_token: string;
}

export type TokenScope = "run" | "read" | "write" | "admin";

export interface ApiTokenSummary {
  id: string | number;
  name: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  scopes: TokenScope[];
  hint: string | null;
}

export interface ApiTokenCreated extends ApiTokenSummary {
  token: string;
}

export interface NewApiToken {
  name: string;
  scopes: TokenScope[];
  expires_at: string | null;
}

// ---- catalog ----

export type PortType = "text" | "number" | "boolean" | "json" | "image" | "image_list" | "any";

export interface Port {
  name: string;
  type: PortType;
  required: boolean;
  config_fallback: boolean;
  description: string;
}

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

export interface NodeTypeInfo {
  type: string;
  title: string;
  category: string;
  description: string;
  version: number;
  is_trigger: boolean;
  config_schema: JsonSchema;
  inputs: Port[];
  outputs: Port[];
  /** Not in docs/api.md yet: a valid starting config. The canvas has fallbacks. */
  default_config?: JsonObject;
}

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

export interface ModelCatalog {
  default: string;
  models: ModelInfo[];
  /** The key's model list, when the server has a key: image models it lists that the catalog lacks. */
  key?: { checked: number; not_in_catalog: string[] } | null;
}

export interface Problem {
  node_id: string | null;
  port: string | null;
  field: string | null;
  message: string;
  /** A batch's rows file: 1 = the first data row. */
  row?: number;
}

export interface BatchEstimate {
  rows: number;
  images_per_row: number;
  per_row_usd: number;
  total_usd: number;
  free: boolean;
  description: string;
}

export interface BatchEstimateAnswer {
  flow_id: string;
  flow_version: number;
  trigger_id: string | null;
  estimate: BatchEstimate;
}

export type BatchRowStatus = "pending" | "running" | "succeeded" | "failed" | "skipped";

export interface BatchSummary {
  id: string;
  flow_id: string | null;
  flow_version: number | null;
  rows_file: string;
  source: "server" | "cli";
  state: "running" | "finished" | "cancelled" | null;
  active: boolean;
  created_at: string;
  total_rows: number;
  counts: Record<BatchRowStatus, number>;
  settled: number;
  cost_usd: number;
  estimate_usd: number | null;
  budget_usd: number | null;
  concurrency: number | null;
  eta_seconds: number | null;
}

export interface BatchRow {
  number: number;
  given: JsonObject;
  status: BatchRowStatus;
  error: string | null;
  cost_usd: number;
  attempts: number;
  run_id: string | null;
  /** Links to the row's input images and to the images its run made (a few of each). */
  thumbnails?: { inputs: string[]; outputs: string[] };
}

export interface BatchDetail extends BatchSummary {
  rows: BatchRow[];
}

export interface NodePorts {
  inputs: Port[];
  outputs: Port[];
}

export interface ValidateAnswer {
  valid: boolean;
  problems: Problem[];
  ports: Record<string, NodePorts>;
}

// ---- flows ----

export interface FlowSummary {
  id: string;
  name: string;
  description: string;
  version: number;
  updated_at: string;
  published_version: number | null;
}

export interface TriggerEndpoint {
  node_id: string;
  url: string;
}

export interface Publication {
  flow_id: string;
  version: number;
  published_at: string;
  rate_limit_per_minute: number;
  /** Most the triggers may spend per UTC day (recorded run costs); null: no cap. */
  daily_budget_usd: number | null;
  mcp?: boolean; // offered to MCP clients as a tool (at /mcp)
  spending_today?: { spent_usd: number; in_flight_usd: number; resets_at: string };
  triggers: TriggerEndpoint[];
  secret_hint: string | null;
  secret?: string;
  /** Not in docs/api.md: how many secrets work now (2 during a rotation's grace period). */
  secrets_active?: number;
}

export interface FlowDetail extends FlowSummary {
  document: FlowDocument;
  publication: Publication | null;
}

export interface VersionSummary {
  number: number;
  hash: string;
  created_at: string;
  created_by: string | null;
  /** What changed, as given on save. */
  message?: string | null;
  /** Whether it can serve as the published API (valid, with an HTTP Trigger). */
  publishable?: boolean;
  /** Why it cannot, each naming its node and field. */
  problems?: Problem[];
}

export interface VersionDetail {
  number: number;
  hash: string;
  created_at: string;
  message?: string | null;
  document: FlowDocument;
}

/** The exact document a run ran: a saved version, or an unsaved draft (`flow_version` null). */
export interface RunDocument {
  flow_version: number | null;
  flow_hash: string;
  document: FlowDocument | null;
}

export interface FieldChange {
  path: string;
  before: JsonValue;
  after: JsonValue;
}

export interface FlowDiff {
  a: number;
  b: number;
  nodes: {
    added: string[];
    removed: string[];
    changed: { id: string; changes: FieldChange[] }[];
  };
  edges: { added: string[]; removed: string[] };
}

export interface Template {
  id: string;
  name: string;
  description: string;
  document: FlowDocument;
}

export interface CodeExamples {
  curl: string;
  python: string;
  javascript: string;
}

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

export interface UploadAnswer {
  image: { $image: ImageRef };
  url: string;
}

export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type NodeRunStatus =
  | "pending"
  | "queued"
  | "running"
  | "succeeded"
  | "failed"
  | "cached"
  | "skipped"
  | "cancelled";

export interface RunSummary {
  id: string;
  flow_id: string;
  /** The saved version it ran; null: an unsaved draft. */
  flow_version: number | null;
  flow_hash: string;
  /** editor, trigger, batch or cli. */
  source: string;
  inputs: JsonValue;
  status: RunStatus;
  created_at: string;
  duration_ms: number | null;
  cost_usd: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  backend: string | null;
  error: string | null;
  failed_node: string | null;
  thumbnail: string | { url: string } | null;
}

export interface NodeRunRecord {
  node_id: string;
  node_type: string;
  status: NodeRunStatus;
  inputs: JsonValue;
  outputs: JsonValue;
  backend: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  cache_hit: boolean;
  error: string | null;
  error_port: string | null;
  duration_ms: number | null;
}

export interface RunDetail extends RunSummary {
  result: JsonValue;
  nodes: NodeRunRecord[];
}

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

export interface Settings {
  backend: "gemini" | "preview";
  gemini_key: { source: "environment" | "stored" | null; hint: string | null };
  mcp_url?: string; // the MCP endpoint (Streamable HTTP) of this server
}
