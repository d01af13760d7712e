// The flow editor: palette, canvas, config panel, runs, history and publishing.
import {
  Background,
  BackgroundVariant,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesInitialized,
  useNodesState,
  useReactFlow,
  type Connection,
  type Edge,
  type FinalConnectionState,
  type IsValidConnection,
  type OnBeforeDelete,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { api, errorMessage } from "../api/client";
import type { FlowDetail, JsonObject, PortType, Publication, Settings } from "../api/types";
import { ErrorNote } from "../components/Form";
import { LoadingPage } from "../components/Spinner";
import { useToast } from "../components/Toast";
import { fromDocument, makeEdge, newNodeId, nodeAriaLabel, splitRef, structureKey, toDocument, type FlowMeta, type PlaitEdge, type PlaitNode } from "../lib/flow";
import { ancestorsOf, descendantsOf, type ReferenceChoices } from "../lib/templateRefs";
import { followPortEdits } from "../lib/portEdits";
import { accepts, refusal } from "../lib/ports";
import { linkHandler } from "../lib/router";
import { TopBar } from "../pages/Layout";
import { CatalogContext, findModel, makeCatalog, portsOf, portType, pricePerImage, type Catalog } from "./catalog";
import { ConfigPanel } from "./ConfigPanel";
import type { OutputRef } from "./forms/ConnectionsForm";
import { nodeTypes } from "./FlowNode";
import { HistoryPanel } from "./HistoryPanel";
import { NodeInspector } from "./NodeInspector";
import { NodeSearch, useNodeSearch } from "./NodeSearch";
import { PanelDock } from "./PanelDock";
import { dependencies, useReferenceEdges } from "./referenceEdges";
import { useAddNode } from "./useAddNode";
import { useKeepInView } from "./useKeepInView";
import { useRunToHere } from "./useRunToHere";
import { useTidy } from "./useTidy";
import { EditorToolbar } from "./EditorToolbar";
import { FlowInfo } from "./FlowInfo";
import { DRAG_MIME, Palette } from "./Palette";
import { PublishDialog } from "./PublishDialog";
import { RunDialog, triggersOf } from "./RunDialog";
import { RunPanel } from "./RunPanel";
import { useUndo } from "./useHistory";
import { useRun } from "./useRun";
import { useValidation } from "./useValidation";
import { ViewStore, ViewStoreContext } from "./viewStore";

interface Loaded {
  flow: FlowDetail;
  catalog: Catalog;
  settings: Settings | null;
}

export function EditorPage({ flowId }: { flowId: string }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const store = useMemo(() => new ViewStore(), []);

  useEffect(() => {
    let live = true;
    Promise.all([api.getFlow(flowId), api.nodeTypes(), api.models(), api.settings().catch(() => null)]).then(
      ([flow, types, models, settings]) => {
        if (live) setLoaded({ flow, catalog: makeCatalog(types, models), settings });
      },
      (e: unknown) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [flowId]);

  if (error)
    return (
      <div className="page">
        <TopBar />
        <main className="page-main">
          <ErrorNote message={`Could not open the flow: ${error}`} />
          <a href="/" onClick={linkHandler("/")}>
            Back to flows
          </a>
        </main>
      </div>
    );
  if (!loaded) return <LoadingPage label="Opening the flow" />;
  return (
    <ReactFlowProvider>
      <ViewStoreContext.Provider value={store}>
        <CatalogContext.Provider value={loaded.catalog}>
          <Editor initial={loaded.flow} catalog={loaded.catalog} settings={loaded.settings} store={store} />
        </CatalogContext.Provider>
      </ViewStoreContext.Provider>
    </ReactFlowProvider>
  );
}

const EDITABLE = new Set(["INPUT", "TEXTAREA", "SELECT"]);

function isEditable(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (EDITABLE.has(el.tagName) || el.isContentEditable);
}

interface Clipboard {
  nodes: PlaitNode[];
  edges: PlaitEdge[];
}

type SidebarTab = "node" | "data" | "history";

function Editor({ initial, catalog, settings, store }: { initial: FlowDetail; catalog: Catalog; settings: Settings | null; store: ViewStore }) {
  const toast = useToast();
  const flowId = initial.id;
  const start = useMemo(() => fromDocument(initial.document), [initial]);
  const [nodes, setNodes, onNodesChange] = useNodesState<PlaitNode>(start.nodes);
  const [edges, setEdges, onEdgesChange] = useEdgesState<PlaitEdge>(start.edges);
  const [meta, setMeta] = useState<FlowMeta>(start.meta);
  const [flow, setFlow] = useState<FlowDetail>(initial);
  const [savedKey, setSavedKey] = useState(() => JSON.stringify(toDocument(start.meta, start.nodes, start.edges)));
  const [saving, setSaving] = useState(false);
  const [tab, setTab] = useState<SidebarTab>("node");
  const [runPanelOpen, setRunPanelOpen] = useState(false);
  const [runDialogOpen, setRunDialogOpen] = useState(false);
  const [publishDialog, setPublishDialog] = useState<{ version: number } | null>(null);
  const [historyKey, setHistoryKey] = useState(0);
  const [lastInputs, setLastInputs] = useState<Record<string, unknown>>({});
  const { screenToFlowPosition, fitView } = useReactFlow<PlaitNode, PlaitEdge>();
  const canvas = useRef<HTMLDivElement>(null);
  const clipboard = useRef<Clipboard | null>(null);

  // Template references, drawn as dashed edges next to the document's own.
  const hasOutput = useCallback((n: PlaitNode, port: string) => portsOf(catalog, store, n.id, n.data.nodeType).outputs.some((p) => p.name === port), [catalog, store]);
  const refEdges = useReferenceEdges(nodes, hasOutput);
  const shownEdges = useMemo(() => (refEdges.length ? [...edges, ...refEdges] : edges), [edges, refEdges]);

  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  const shownEdgesRef = useRef(shownEdges);
  const metaRef = useRef(meta);
  nodesRef.current = nodes;
  edgesRef.current = edges;
  shownEdgesRef.current = shownEdges;
  metaRef.current = meta;

  const getSnapshot = useCallback(() => ({ nodes: nodesRef.current, edges: edgesRef.current }), []);
  const setSnapshot = useCallback(
    (s: { nodes: PlaitNode[]; edges: PlaitEdge[] }) => {
      setNodes(s.nodes);
      setEdges(s.edges);
    },
    [setNodes, setEdges],
  );
  const history = useUndo(getSnapshot, setSnapshot);
  const { checkpoint } = history;

  // Fit the opened flow into view once its nodes have been measured.
  const nodesInitialized = useNodesInitialized();
  const fitted = useRef(start.nodes.length === 0);
  useEffect(() => {
    if (!nodesInitialized || fitted.current) return;
    fitted.current = true;
    requestAnimationFrame(() => void fitView({ padding: 0.15, maxZoom: 1 }));
  }, [nodesInitialized, fitView]);

  const validation = useValidation(meta, nodes, edges, store);
  const nodeIds = useCallback(() => nodesRef.current.map((n) => n.id), []);
  const { run, start: startRun, show: showRun, cancel: cancelRun, clear: clearRun } = useRun(flowId, store, nodeIds);
  const settled = run.status === "succeeded" || run.status === "failed" || run.status === "cancelled";
  useKeepInView(canvas, runPanelOpen && run.status !== null, `${run.runId ?? ""} ${settled ? "settled" : "running"}`);

  const document_ = useMemo(() => toDocument(meta, nodes, edges), [meta, nodes, edges]);
  const currentKey = useMemo(() => JSON.stringify(document_), [document_]);
  const dirty = currentKey !== savedKey;

  useEffect(() => {
    document.title = `${meta.name || "Untitled flow"}${dirty ? " •" : ""} — Plait`;
  }, [meta.name, dirty]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  // ---- nodes ----

  const onAdded = useCallback(() => setTab("node"), []);
  const validatedKey = useRef(validation.key);
  validatedKey.current = validation.key;
  const addNode = useAddNode({ catalog, store, metaRef, nodesRef, edgesRef, validatedKey, canvas, checkpoint, setNodes, setEdges, onAdded });
  const tidy = useTidy(nodesRef, shownEdgesRef, checkpoint, setNodes);

  const search = useNodeSearch(addNode);

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(DRAG_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_MIME);
      if (!type) return;
      event.preventDefault();
      const p = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      addNode(type, { x: p.x - 120, y: p.y - 20 });
    },
    [addNode, screenToFlowPosition],
  );

  const updateConfig = useCallback(
    (id: string, config: JsonObject) => {
      checkpoint(`config:${id}`);
      const node = nodesRef.current.find((n) => n.id === id);
      if (node) setEdges((list) => followPortEdits(list, id, node.data.nodeType, node.data.config, config));
      setNodes((list) => list.map((n) => (n.id === id ? { ...n, data: { ...n.data, config } } : n)));
    },
    [checkpoint, setNodes, setEdges],
  );

  const updateLabel = useCallback(
    (id: string, label: string) => {
      checkpoint(`label:${id}`);
      setNodes((list) =>
        list.map((n) => {
          if (n.id !== id) return n;
          const data = { ...n.data };
          if (label) data.label = label;
          else delete data.label;
          return { ...n, data, ariaLabel: nodeAriaLabel(n.id, data) };
        }),
      );
    },
    [checkpoint, setNodes],
  );

  const deleteNodes = useCallback(
    (ids: ReadonlySet<string>) => {
      if (!ids.size) return;
      checkpoint();
      setNodes((list) => list.filter((n) => !ids.has(n.id)));
      setEdges((list) => list.filter((e) => !ids.has(e.source) && !ids.has(e.target)));
      ids.forEach((id) => store.forget(id));
    },
    [checkpoint, setNodes, setEdges, store],
  );

  const deleteNode = useCallback((id: string) => deleteNodes(new Set([id])), [deleteNodes]);

  const onBeforeDelete: OnBeforeDelete<PlaitNode, PlaitEdge> = useCallback(async () => {
    checkpoint();
    return true;
  }, [checkpoint]);

  const onNodeDragStart = useCallback(() => checkpoint(), [checkpoint]);
  const onNodeClick = useCallback(() => setTab((t) => (t === "data" ? t : "node")), []);

  // ---- edges ----

  const connectionTypes = useCallback(
    (c: Connection | Edge) => {
      const source = nodesRef.current.find((n) => n.id === c.source);
      const target = nodesRef.current.find((n) => n.id === c.target);
      if (!source || !target) return null;
      const out = portType(portsOf(catalog, store, source.id, source.data.nodeType), "outputs", c.sourceHandle);
      const inp = portType(portsOf(catalog, store, target.id, target.data.nodeType), "inputs", c.targetHandle);
      return out && inp ? { out, inp } : null;
    },
    [catalog, store],
  );

  const isValidConnection: IsValidConnection<PlaitEdge> = useCallback(
    (c) => {
      if (c.source === c.target) return false;
      const types = connectionTypes(c);
      return !!types && accepts(types.inp, types.out);
    },
    [connectionTypes],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.sourceHandle || !c.targetHandle) return;
      checkpoint();
      // An input takes at most one edge: a new one replaces the old.
      setEdges((list) => [
        ...list.filter((e) => !(e.target === c.target && e.targetHandle === c.targetHandle)),
        makeEdge(c.source, c.sourceHandle!, c.target, c.targetHandle!),
      ]);
    },
    [checkpoint, setEdges],
  );

  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromHandle || !state.toHandle) return;
      const fromIsSource = state.fromHandle.type === "source";
      const src = fromIsSource ? state.fromHandle : state.toHandle;
      const dst = fromIsSource ? state.toHandle : state.fromHandle;
      if (src.type !== "source" || dst.type !== "target") {
        toast.show("Connect an output (right side) to an input (left side).", "error");
        return;
      }
      if (src.nodeId === dst.nodeId) {
        toast.show("A node cannot feed itself.", "error");
        return;
      }
      const types = connectionTypes({ source: src.nodeId, sourceHandle: src.id ?? null, target: dst.nodeId, targetHandle: dst.id ?? null });
      if (types && !accepts(types.inp, types.out)) toast.show(`${refusal(types.out, types.inp)} (${src.nodeId}.${src.id} → ${dst.nodeId}.${dst.id})`, "error");
    },
    [connectionTypes, toast],
  );

  // ---- copy, paste, keyboard ----

  const copySelection = useCallback(() => {
    const picked = nodesRef.current.filter((n) => n.selected);
    if (!picked.length) return false;
    const ids = new Set(picked.map((n) => n.id));
    clipboard.current = { nodes: picked, edges: edgesRef.current.filter((e) => ids.has(e.source) && ids.has(e.target)) };
    toast.show(picked.length === 1 ? "Copied 1 node" : `Copied ${picked.length} nodes`);
    return true;
  }, [toast]);

  const paste = useCallback(() => {
    const clip = clipboard.current;
    if (!clip) return;
    checkpoint();
    const taken = new Set(nodesRef.current.map((n) => n.id));
    const rename = new Map<string, string>();
    const pasted = clip.nodes.map((n) => {
      const id = newNodeId(n.data.nodeType, taken);
      taken.add(id);
      rename.set(n.id, id);
      const data = structuredClone(n.data);
      return { ...n, id, selected: true, dragging: false, position: { x: n.position.x + 40, y: n.position.y + 40 }, data, ariaLabel: nodeAriaLabel(id, data) };
    });
    const pastedEdges = clip.edges.map((e) => makeEdge(rename.get(e.source)!, e.sourceHandle ?? "", rename.get(e.target)!, e.targetHandle ?? ""));
    setNodes((list) => [...list.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pasted]);
    setEdges((list) => [...list.map((e) => (e.selected ? { ...e, selected: false } : e)), ...pastedEdges]);
    clipboard.current = { nodes: pasted, edges: pastedEdges };
  }, [checkpoint, setNodes, setEdges]);

  // ---- save, runs, publishing ----

  const save = useCallback(async (message?: string): Promise<number | null> => {
    setSaving(true);
    try {
      const doc = toDocument(metaRef.current, nodesRef.current, edgesRef.current);
      const before = flow.version;
      const detail = await api.saveFlow(flowId, doc, message);
      setFlow(detail);
      setSavedKey(JSON.stringify(doc));
      setHistoryKey((k) => k + 1);
      toast.show(detail.version !== before ? `Saved as version ${detail.version}` : "No changes to save", "success");
      return detail.version;
    } catch (e) {
      toast.show(`Could not save: ${errorMessage(e)}`, "error");
      return null;
    } finally {
      setSaving(false);
    }
  }, [flow.version, flowId, toast]);

  const onRunClick = useCallback(() => setRunDialogOpen(true), []);

  const draft = useCallback(() => toDocument(metaRef.current, nodesRef.current, edgesRef.current), []);
  const openRunDialog = useCallback(() => setRunDialogOpen(true), []);
  const openRunPanel = useCallback(() => setRunPanelOpen(true), []);
  const toHere = useRunToHere({ nodesRef, linksRef: shownEdgesRef, document: draft, startRun, openDialog: openRunDialog, onStarted: openRunPanel });

  const doRun = useCallback(
    async (inputs: Record<string, unknown>, triggerId: string | undefined, reuseCache: boolean) => {
      setLastInputs(inputs);
      await startRun(inputs, draft(), triggerId, reuseCache, toHere.scope());
      setRunDialogOpen(false);
      toHere.reset();
      setRunPanelOpen(true);
    },
    [startRun, draft, toHere],
  );
  const closeRunDialog = useCallback(() => {
    setRunDialogOpen(false);
    toHere.reset();
  }, [toHere]);

  const onShowRun = useCallback(
    (runId: string) => {
      setRunPanelOpen(true);
      void showRun(runId);
    },
    [showRun],
  );

  const loadDetail = useCallback(
    (detail: FlowDetail) => {
      const next = fromDocument(detail.document);
      checkpoint();
      setNodes(next.nodes);
      setEdges(next.edges);
      setMeta(next.meta);
      setFlow(detail);
      setSavedKey(JSON.stringify(toDocument(next.meta, next.nodes, next.edges)));
      setHistoryKey((k) => k + 1);
      window.setTimeout(() => void fitView({ padding: 0.2 }), 50);
    },
    [checkpoint, setNodes, setEdges, fitView],
  );

  const onRestore = useCallback(
    async (version: number) => {
      if (dirty && !window.confirm("Restoring replaces the unsaved changes on the canvas. Continue?")) return;
      const detail = await api.restoreVersion(flowId, version);
      loadDetail(detail);
      toast.show(`Restored version ${version} as version ${detail.version}`, "success");
    },
    [dirty, flowId, loadDetail, toast],
  );

  const onPublishVersion = useCallback(async (version: number) => setPublishDialog({ version }), []);

  const onPublicationChanged = useCallback((publication: Publication | null) => {
    setFlow((f) => ({ ...f, publication, published_version: publication?.version ?? null }));
    setHistoryKey((k) => k + 1);
  }, []);

  const selectNode = useCallback(
    (id: string) => {
      setNodes((list) => list.map((n) => (n.selected !== (n.id === id) ? { ...n, selected: n.id === id } : n)));
      setTab("node");
      const node = nodesRef.current.find((n) => n.id === id);
      if (node) void fitView({ nodes: [{ id }], duration: 300, maxZoom: 1.2 });
    },
    [setNodes, fitView],
  );

  const onKeyDown = useCallback(
    (event: globalThis.KeyboardEvent) => {
      if (event.defaultPrevented || (event.target instanceof Element && event.target.closest("dialog"))) return;
      const mod = event.ctrlKey || event.metaKey;
      if (mod && event.key.toLowerCase() === "s") {
        event.preventDefault();
        void save();
        return;
      }
      if (mod && event.key === "Enter") {
        event.preventDefault();
        setRunDialogOpen(true);
        return;
      }
      if (isEditable(event.target)) return;
      const key = event.key.toLowerCase();
      if (mod && key === "z" && !event.shiftKey) {
        event.preventDefault();
        history.undo();
      } else if (mod && ((key === "z" && event.shiftKey) || key === "y")) {
        event.preventDefault();
        history.redo();
      } else if (mod && key === "c") {
        if (copySelection()) event.preventDefault();
      } else if (mod && key === "v") {
        event.preventDefault();
        paste();
      } else if (mod && key === "a") {
        event.preventDefault();
        setNodes((list) => list.map((n) => (n.selected ? n : { ...n, selected: true })));
      }
    },
    [save, history, copySelection, paste, setNodes],
  );

  // On the window, so shortcuts still work after the focused node was removed.
  useEffect(() => {
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [onKeyDown]);

  // ---- derived for panels ----

  const selected = useMemo(() => nodes.filter((n) => n.selected), [nodes]);
  const selectedNode = selected.length === 1 ? selected[0]! : null;
  const triggers = useMemo(() => triggersOf(nodes), [nodes]);
  const runCost = useMemo(() => {
    let usd: number | null = 0;
    let images = 0;
    // "Run to here" runs only the nodes the picked one needs: only theirs are counted.
    const scope = toHere.scope();
    const inScope = scope ? new Set(scope.nodes) : null;
    for (const n of nodes) {
      if (n.data.nodeType !== "image" || (inScope && !inScope.has(n.id))) continue;
      const count = typeof n.data.config["number_of_images"] === "number" ? n.data.config["number_of_images"] : 1;
      images += count;
      const model = findModel(catalog.models, n.data.config["model"] ?? catalog.models.default);
      const size = typeof n.data.config["image_size"] === "string" ? n.data.config["image_size"] : null;
      const price = model ? pricePerImage(model, size) : null;
      usd = price === null || usd === null ? null : usd + price * count;
    }
    return { preview: settings?.backend === "preview", usd, images };
  }, [nodes, catalog, settings, toHere]);
  const globalProblems = validation.problems.filter((p) => !p.node_id);

  // Edges whose port no longer exists (a field renamed elsewhere, a mode switched): the
  // canvas cannot draw them, so they are listed with a way to remove them.
  const danglingEdges = useMemo(() => {
    if (validation.key !== structureKey(nodes, edges)) return [];
    const byId = new Map(nodes.map((n) => [n.id, n]));
    return edges.filter((e) => {
      const source = byId.get(e.source);
      const target = byId.get(e.target);
      if (!source || !target) return true;
      const out = portsOf(catalog, store, source.id, source.data.nodeType).outputs;
      const inp = portsOf(catalog, store, target.id, target.data.nodeType).inputs;
      return !out.some((p) => p.name === e.sourceHandle) || !inp.some((p) => p.name === e.targetHandle);
    });
    // `validation` changes when new ports arrive.
  }, [nodes, edges, catalog, store, validation]);

  const removeDangling = useCallback(() => {
    const ids = new Set(danglingEdges.map((e) => e.id));
    checkpoint();
    setEdges((list) => list.filter((e) => !ids.has(e.id)));
  }, [danglingEdges, checkpoint, setEdges]);

  // `node.port` references a template may use: every output of every node, except images.
  // Every output on the canvas as `node.port` with its type, for wiring lists and templates.
  const outputsKey = useMemo(() => {
    const list: string[] = [];
    for (const n of nodes)
      for (const p of portsOf(catalog, store, n.id, n.data.nodeType).outputs) list.push(`${n.id}.${p.name} ${p.type}`);
    return list.join("\n");
    // `validation` changes when new ports arrive from the server.
  }, [nodes, catalog, store, validation]);
  const outputs = useMemo<OutputRef[]>(
    () =>
      outputsKey
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [ref, type] = line.split(" ") as [string, PortType];
          return { ref, type };
        }),
    [outputsKey],
  );
  // What the selected node may use: outputs of nodes upstream of it or unconnected to it
  // (a downstream node's output would make a cycle); templates take anything but images,
  // upstream outputs first.
  const selectedId = selectedNode?.id ?? null;
  // As strings, so that a drag (new `nodes`, same graph) leaves the lists below as they are.
  const [downstreamKey, upstreamKey] = useMemo(() => {
    if (!selectedId) return ["", ""];
    const deps = dependencies(nodes, shownEdges);
    return [[...descendantsOf(selectedId, deps)].join(" "), [...ancestorsOf(selectedId, deps)].join(" ")];
  }, [selectedId, nodes, shownEdges]);
  const usable = useMemo(() => {
    const downstream = new Set(downstreamKey.split(" "));
    return outputs.filter((o) => !downstream.has(splitRef(o.ref)[0]));
  }, [outputs, downstreamKey]);
  const references = useMemo((): ReferenceChoices => {
    const upstream = new Set(upstreamKey.split(" "));
    const text = usable.filter((o) => o.type !== "image" && o.type !== "image_list").map((o) => o.ref);
    return { upstream: text.filter((r) => upstream.has(splitRef(r)[0])), unconnected: text.filter((r) => !upstream.has(splitRef(r)[0])) };
  }, [usable, upstreamKey]);

  const onWire = useCallback(
    (nodeId: string, port: string, source: string | null) => {
      checkpoint();
      setEdges((list) => {
        const rest = list.filter((e) => !(e.target === nodeId && e.targetHandle === port));
        if (!source) return rest;
        const [sourceNode, sourcePort] = splitRef(source);
        return [...rest, makeEdge(sourceNode, sourcePort, nodeId, port)];
      });
    },
    [checkpoint, setEdges],
  );

  const connectedPorts = useMemo(() => {
    const map = new Map<string, string>();
    if (!selectedNode) return map;
    for (const e of edges) if (e.target === selectedNode.id && e.targetHandle) map.set(e.targetHandle, `${e.source}.${e.sourceHandle}`);
    return map;
  }, [edges, selectedNode]);

  const leaveTo = (path: string) => (e: React.MouseEvent<HTMLAnchorElement>) => {
    if (dirty && !window.confirm("Leave the editor? The unsaved changes are lost.")) e.preventDefault();
    else linkHandler(path)(e);
  };

  // A settled run shows up in the history's run list.
  useEffect(() => {
    if (settled) setHistoryKey((k) => k + 1);
  }, [settled, run.runId]);

  const onName = useCallback((name: string) => setMeta((m) => ({ ...m, name })), []);
  const onSave = useCallback(() => void save(), [save]);
  const onPublishClick = useCallback(() => setPublishDialog({ version: flow.version }), [flow.version]);

  return (
    <div className="editor">
      <TopBar>
        <EditorToolbar
          flowId={flowId}
          name={meta.name}
          onName={onName}
          dirty={dirty}
          version={flow.version}
          publishedVersion={flow.publication?.version ?? null}
          validation={validation}
          saving={saving}
          undo={history}
          onSave={onSave}
          onRun={onRunClick}
          onPublish={onPublishClick}
        />
      </TopBar>

      {settings?.backend === "preview" ? (
        <div className="banner banner-preview" role="note" data-testid="preview-banner">
          <strong>Preview mode.</strong> Runs use the offline preview backend: free images that show what would be sent to
          Gemini. <a href="/settings" onClick={leaveTo("/settings")}>Add a Gemini key in Settings</a> to generate real images.
        </div>
      ) : null}
      {danglingEdges.length ? (
        <div className="banner banner-error" role="alert" data-testid="dangling-edges">
          {danglingEdges.length === 1 ? "An edge points" : `${danglingEdges.length} edges point`} at a port that no longer exists:{" "}
          {danglingEdges.map((e) => `${e.source}.${e.sourceHandle} → ${e.target}.${e.targetHandle}`).join(", ")}.{" "}
          <button type="button" className="link-button" onClick={removeDangling}>
            Remove {danglingEdges.length === 1 ? "it" : "them"}
          </button>
        </div>
      ) : null}
      {globalProblems.length ? (
        <div className="banner banner-error" role="alert" data-testid="flow-problems">
          {globalProblems.map((p, i) => (
            <div key={i}>{p.message}</div>
          ))}
        </div>
      ) : null}

      <div className="editor-body">
        <div className="palette-column">
          <Palette onAdd={addNode} />
          <div className="minimap-dock" data-testid="minimap-dock">
            <MiniMap pannable zoomable ariaLabel="Mini map" style={{ width: 168, height: 112 }} />
          </div>
        </div>
        <div className="canvas-column">
          <div className="canvas" data-testid="canvas" ref={canvas} onDragOver={onDragOver} onDrop={onDrop} onDoubleClick={search.onDoubleClick}>
            <ReactFlow<PlaitNode, PlaitEdge>
              nodes={nodes}
              edges={shownEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              isValidConnection={isValidConnection}
              onBeforeDelete={onBeforeDelete}
              onNodeDragStart={onNodeDragStart}
              onNodeClick={onNodeClick}
              onSelectionDragStart={onNodeDragStart}
              deleteKeyCode={["Delete", "Backspace"]}
              multiSelectionKeyCode={["Shift", "Meta", "Control"]}
              minZoom={0.1}
              maxZoom={2}
              defaultEdgeOptions={{ type: "default" }}
              proOptions={{ hideAttribution: true }}
              snapToGrid
              snapGrid={[8, 8]}
              zoomOnDoubleClick={false}
            >
              <Background variant={BackgroundVariant.Dots} gap={16} size={1} />
              <Controls showInteractive={false} position="bottom-left">
                <ControlButton onClick={tidy} title="Tidy: lay the flow out left to right" aria-label="Tidy: lay the flow out left to right" data-testid="tidy">
                  ⇶
                </ControlButton>
              </Controls>
            </ReactFlow>
            {search.spot ? <NodeSearch spot={search.spot} onPick={search.pick} onClose={search.close} /> : null}
            {nodes.length === 0 ? (
              <div className="canvas-empty" aria-hidden="true">
                <p>Drag node types here from the left, press one to add it, or double-click here to search.</p>
                <p className="muted small">A typical flow: HTTP Trigger → Image → Respond to Webhook.</p>
              </div>
            ) : null}
          </div>
          {runPanelOpen && run.status ? (
            <PanelDock name="run-panel" label="run panel">
              {(dock) => (
                <RunPanel
                  run={run}
                  dock={dock}
                  nodeIds={nodes.map((n) => n.id)}
                  onClose={() => {
                    setRunPanelOpen(false);
                    clearRun();
                  }}
                  onCancel={() => void cancelRun()}
                  onSelectNode={selectNode}
                />
              )}
            </PanelDock>
          ) : null}
        </div>
        <aside className="sidebar" aria-label="Inspector">
          <div className="tabs" role="tablist" aria-label="Inspector">
            <button type="button" role="tab" className="tab" aria-selected={tab === "node"} data-testid="sidebar-tab-node" onClick={() => setTab("node")}>
              {selectedNode ? "Node" : "Flow"}
            </button>
            {selectedNode ? (
              <button type="button" role="tab" className="tab" aria-selected={tab === "data"} data-testid="sidebar-tab-data" onClick={() => setTab("data")}>
                Data
              </button>
            ) : null}
            <button type="button" role="tab" className="tab" aria-selected={tab === "history"} data-testid="sidebar-tab-history" onClick={() => setTab("history")}>
              History
            </button>
          </div>
          <div className="sidebar-body">
            {tab === "history" ? (
              <HistoryPanel
                flowId={flowId}
                publishedVersion={flow.publication?.version ?? flow.published_version}
                refreshKey={historyKey}
                activeRunId={run.runId}
                onShowRun={onShowRun}
                onRestore={onRestore}
                onPublishVersion={onPublishVersion}
                onSaveVersion={save}
              />
            ) : selectedNode && tab === "data" ? (
              <NodeInspector nodeId={selectedNode.id} detail={run.detail} running={run.status === "starting" || run.status === "queued" || run.status === "running"} onRunToHere={toHere.runToHere} reuse={toHere.reuse} onReuse={toHere.setReuse} />
            ) : selectedNode ? (
              <ConfigPanel
                key={selectedNode.id}
                nodeId={selectedNode.id}
                data={selectedNode.data}
                references={references}
                outputs={usable}
                connectedPorts={connectedPorts}
                onWire={onWire}
                onConfig={updateConfig}
                onLabel={updateLabel}
                onDelete={deleteNode}
              />
            ) : (
              <FlowInfo meta={meta} selectedCount={selected.length} onMeta={setMeta} />
            )}
          </div>
        </aside>
      </div>

      {runDialogOpen ? <RunDialog triggers={triggers} remembered={lastInputs} cost={runCost} upTo={toHere.upTo} initialReuse={toHere.upTo ? toHere.reuse : false} onClose={closeRunDialog} onRun={doRun} /> : null}
      {publishDialog ? (
        <PublishDialog
          flowId={flowId}
          latestVersion={flow.version}
          initialVersion={publishDialog.version}
          publication={flow.publication}
          dirty={dirty}
          onSave={() => save()}
          onChanged={onPublicationChanged}
          onClose={() => setPublishDialog(null)}
        />
      ) : null}
    </div>
  );
}
