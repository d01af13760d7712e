// The typed API client: one function per route of docs/api.md.
import type {
  ApiTokenCreated,
  ApiTokenSummary,
  AuthState,
  BatchDetail,
  BatchEstimateAnswer,
  BatchSummary,
  CodeExamples,
  FlowDetail,
  FlowDiff,
  FlowDocument,
  FlowSummary,
  JsonObject,
  LoginAnswer,
  NewApiToken,
  ModelCatalog,
  ModelInfo,
  NodeTypeInfo,
  Problem,
  Publication,
  RunDetail,
  RunDocument,
  RunSummary,
  Settings,
  Template,
  UploadAnswer,
  User,
  ValidateAnswer,
  VersionDetail,
  VersionSummary,
} from "./types";

/** An error answer from the API: `{"detail": ..., "errors"?: [...]}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly problems: Problem[];

  constructor(status: number, message: string, problems: Problem[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problems = problems;
  }
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request answers 401 (the session ended). */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

function detailMessage(body: unknown, status: number): { message: string; problems: Problem[] } {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    const errors = (body as { errors?: unknown }).errors;
    const problems = Array.isArray(errors) ? (errors as Problem[]) : [];
    if (typeof detail === "string") return { message: detail, problems };
    if (Array.isArray(detail)) {
      // FastAPI's request-validation shape: [{loc, msg}]
      const lines = detail.map((d: { loc?: unknown[]; msg?: string }) =>
        [Array.isArray(d.loc) ? d.loc.slice(1).join(".") : "", d.msg ?? ""].filter(Boolean).join(": "),
      );
      return { message: lines.join("; "), problems };
    }
  }
  return { message: `Request failed (HTTP ${status})`, problems: [] };
}

async function request<T>(method: Method, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  let payload: BodyInit | undefined;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers.set("Content-Type", "application/json");
    payload = JSON.stringify(body);
  }
  if (method !== "GET" && csrfToken) headers.set("X-CSRF-Token", csrfToken);
  const response = await fetch(path, { ...init, method, headers, body: payload, credentials: "same-origin" });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && onUnauthorized && !path.startsWith("/api/auth/")) onUnauthorized();
    const { message, problems } = detailMessage(parsed, response.status);
    throw new ApiError(response.status, message, problems);
  }
  return parsed as T;
}

const enc = encodeURIComponent;

/** A model as the server may send it: docs/api.md's fields, or the catalog file's. */
type RawModel = Partial<ModelInfo> & {
  id: string;
  dimensions?: Record<string, unknown>;
  sizes?: Record<string, unknown>;
  price_per_image?: JsonObject;
};
type RawModelCatalog = {
  default: string;
  checked?: string | null;
  models: RawModel[];
  key?: ModelCatalog["key"];
};

function normalizeModels(raw: RawModelCatalog): ModelCatalog {
  return {
    default: raw.default,
    checked: raw.checked ?? null,
    models: raw.models.map((m) => ({
      id: m.id,
      label: m.label ?? m.id,
      lifecycle: m.lifecycle ?? "ga",
      successor: m.successor ?? null,
      deprecated: m.deprecated ?? null,
      shutdown: m.shutdown ?? null,
      available: m.available ?? null,
      aspect_ratios: m.aspect_ratios ?? Object.keys(m.dimensions ?? {}),
      image_sizes: m.image_sizes ?? Object.keys(m.sizes ?? {}),
      max_references: m.max_references ?? 0,
      prices: m.prices ?? m.price_per_image ?? {},
    })),
    key: raw.key ?? null,
  };
}

export const api = {
  // auth
  authState: () => request<AuthState>("GET", "/api/auth/state"),
  setup: (token: string, email: string, password: string) =>
    request<User | LoginAnswer>("POST", "/api/auth/setup", { token, email, password }),
  login: (email: string, password: string) => request<LoginAnswer>("POST", "/api/auth/login", { email, password }),
  logout: () => request<void>("POST", "/api/auth/logout"),
  listTokens: () => request<ApiTokenSummary[]>("GET", "/api/tokens"),
  createToken: (token: NewApiToken) => request<ApiTokenCreated>("POST", "/api/tokens", token),
  deleteToken: (id: string | number) => request<void>("DELETE", `/api/tokens/${enc(String(id))}`),

  // catalog
  nodeTypes: () => request<NodeTypeInfo[]>("GET", "/api/node-types"),
  models: async () => normalizeModels(await request<RawModelCatalog>("GET", "/api/models")),
  validate: (document: FlowDocument, signal?: AbortSignal) =>
    request<ValidateAnswer>("POST", "/api/validate", document, signal ? { signal } : {}),

  // flows and versions
  listFlows: () => request<FlowSummary[]>("GET", "/api/flows"),
  createFlow: (document: FlowDocument) => request<FlowDetail>("POST", "/api/flows", { document }),
  getFlow: (id: string) => request<FlowDetail>("GET", `/api/flows/${enc(id)}`),
  saveFlow: (id: string, document: FlowDocument, message?: string) =>
    request<FlowDetail>("PUT", `/api/flows/${enc(id)}`, { document, ...(message ? { message } : {}) }),
  deleteFlow: (id: string) => request<void>("DELETE", `/api/flows/${enc(id)}`),
  listVersions: (id: string) => request<VersionSummary[]>("GET", `/api/flows/${enc(id)}/versions`),
  getVersion: (id: string, n: number) => request<VersionDetail>("GET", `/api/flows/${enc(id)}/versions/${n}`),
  diff: (id: string, a: number, b: number) => request<FlowDiff>("GET", `/api/flows/${enc(id)}/diff?a=${a}&b=${b}`),
  restoreVersion: (id: string, n: number) =>
    request<FlowDetail>("POST", `/api/flows/${enc(id)}/versions/${n}/restore`),
  templates: () => request<Template[]>("GET", "/api/templates"),

  // publishing
  publish: (id: string, version: number | null, rateLimitPerMinute?: number, dailyBudgetUsd?: number | null, mcp?: boolean) =>
    request<Publication>("POST", `/api/flows/${enc(id)}/publish`, {
      version,
      ...(rateLimitPerMinute !== undefined ? { rate_limit_per_minute: rateLimitPerMinute } : {}),
      ...(dailyBudgetUsd !== undefined ? { daily_budget_usd: dailyBudgetUsd } : {}),
      ...(mcp !== undefined ? { mcp } : {}),
    }),
  unpublish: (id: string) => request<void>("POST", `/api/flows/${enc(id)}/unpublish`),
  rotateSecret: (id: string, graceSeconds = 3600) =>
    request<Publication>("POST", `/api/flows/${enc(id)}/rotate-secret`, { grace_seconds: graceSeconds }),
  publication: (id: string) => request<Publication>("GET", `/api/flows/${enc(id)}/publication`),
  examples: (id: string) => request<CodeExamples>("GET", `/api/flows/${enc(id)}/examples`),

  // runs
  upload: (file: File) => {
    const form = new FormData();
    form.append("file", file);
    return request<UploadAnswer>("POST", "/api/uploads", form);
  },
  /** `reuseCache`: reuse outputs of unchanged nodes from earlier runs (default: compute fresh);
   * `upTo`: run only that node and what it depends on ("Run to here"). */
  startRun: (flowId: string, inputs: Record<string, unknown>, document?: FlowDocument, triggerId?: string, reuseCache = false, upTo?: string) =>
    request<{ run_id: string }>("POST", `/api/flows/${enc(flowId)}/runs`, {
      inputs,
      ...(document ? { document } : {}),
      ...(triggerId ? { trigger_id: triggerId } : {}),
      ...(upTo ? { up_to: upTo } : {}),
      reuse_cache: reuseCache,
    }),
  listRuns: (flowId: string, limit = 50) =>
    request<RunSummary[]>("GET", `/api/runs?flow_id=${enc(flowId)}&limit=${limit}`),
  getRun: (id: string) => request<RunDetail>("GET", `/api/runs/${enc(id)}`),
  runDocument: (id: string) => request<RunDocument>("GET", `/api/runs/${enc(id)}/document`),
  cancelRun: (id: string) => request<void>("POST", `/api/runs/${enc(id)}/cancel`),
  runEventsUrl: (id: string) => `/api/runs/${enc(id)}/events`,

  // batches (form: `rows`, `files`…, and for create `confirm_usd`, `budget_usd`, `concurrency`)
  estimateBatch: (flowId: string, form: FormData) =>
    request<BatchEstimateAnswer>("POST", `/api/flows/${enc(flowId)}/batches/estimate`, form),
  createBatch: (flowId: string, form: FormData) =>
    request<BatchSummary>("POST", `/api/flows/${enc(flowId)}/batches`, form),
  listBatches: (flowId: string) => request<BatchSummary[]>("GET", `/api/batches?flow_id=${enc(flowId)}`),
  getBatch: (id: string, limit = 500) => request<BatchDetail>("GET", `/api/batches/${enc(id)}?limit=${limit}`),
  cancelBatch: (id: string) => request<BatchSummary>("POST", `/api/batches/${enc(id)}/cancel`),
  retryBatch: (id: string, confirmUsd: number) =>
    request<BatchSummary>("POST", `/api/batches/${enc(id)}/retry`, { confirm_usd: confirmUsd }),
  batchEventsUrl: (id: string) => `/api/batches/${enc(id)}/events`,
  batchZipUrl: (id: string) => `/api/batches/${enc(id)}/results.zip`,

  // settings
  settings: () => request<Settings>("GET", "/api/settings"),
  setGeminiKey: (key: string) => request<Settings>("PUT", "/api/settings/gemini-key", { key }),
  deleteGeminiKey: () => request<Settings>("DELETE", "/api/settings/gemini-key"),
};

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
