// The inspector beside the canvas: the selected node's settings (or the flow's, when no
// single node is selected), its data in the run shown, and the history of versions and runs.
import type { FlowMeta } from "../lib/flow";
import { ConfigPanel } from "./ConfigPanel";
import { FlowInfo } from "./FlowInfo";
import { HistoryPanel } from "./HistoryPanel";
import { NodeInspector } from "./NodeInspector";
import type { Draft } from "./useDraft";
import type { EditorRuns } from "./useEditorRuns";
import type { NodeEdits } from "./useNodeEdits";
import type { Selection, SidebarTab } from "./useSelection";
import type { WiringChoices } from "./useWiringChoices";

interface SidebarProps {
  flowId: string;
  meta: FlowMeta;
  onMeta: (meta: FlowMeta) => void;
  selection: Selection;
  draft: Draft;
  runs: EditorRuns;
  wiring: WiringChoices;
  onWire: (nodeId: string, port: string, source: string | null) => void;
  edits: NodeEdits;
  onPublishVersion: (version: number) => Promise<void>;
}

function Tab({ tab, current, onTab, children }: { tab: SidebarTab; current: SidebarTab; onTab: (tab: SidebarTab) => void; children: string }) {
  return (
    <button type="button" role="tab" className="tab" aria-selected={current === tab} data-testid={`sidebar-tab-${tab}`} onClick={() => onTab(tab)}>
      {children}
    </button>
  );
}

export function EditorSidebar({ flowId, meta, onMeta, selection, draft, runs, wiring, onWire, edits, onPublishVersion }: SidebarProps) {
  const { tab, setTab, selected, selectedNode } = selection;
  const { flow } = draft;
  return (
    <aside className="sidebar" aria-label="Inspector">
      <div className="tabs" role="tablist" aria-label="Inspector">
        <Tab tab="node" current={tab} onTab={setTab}>
          {selectedNode ? "Node" : "Flow"}
        </Tab>
        {selectedNode ? (
          <Tab tab="data" current={tab} onTab={setTab}>
            Data
          </Tab>
        ) : null}
        <Tab tab="history" current={tab} onTab={setTab}>
          History
        </Tab>
      </div>
      <div className="sidebar-body">
        {tab === "history" ? (
          <HistoryPanel
            flowId={flowId}
            publishedVersion={flow.publication?.version ?? flow.published_version}
            refreshKey={draft.historyKey}
            activeRunId={runs.run.runId}
            onShowRun={runs.showRun}
            onRestore={draft.restore}
            onPublishVersion={onPublishVersion}
            onSaveVersion={draft.save}
          />
        ) : selectedNode && tab === "data" ? (
          <NodeInspector nodeId={selectedNode.id} detail={runs.run.detail} running={runs.running} onRunToHere={runs.toHere.runToHere} reuse={runs.toHere.reuse} onReuse={runs.toHere.setReuse} />
        ) : selectedNode ? (
          <ConfigPanel
            key={selectedNode.id}
            nodeId={selectedNode.id}
            data={selectedNode.data}
            references={wiring.references}
            outputs={wiring.usable}
            connectedPorts={wiring.connectedPorts}
            onWire={onWire}
            onConfig={edits.updateConfig}
            onLabel={edits.updateLabel}
            onDelete={edits.deleteNode}
          />
        ) : (
          <FlowInfo meta={meta} selectedCount={selected.length} onMeta={onMeta} />
        )}
      </div>
    </aside>
  );
}
