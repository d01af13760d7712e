// The notes above the canvas: preview mode, edges to ports that no longer exist (with a
// way to remove them), and problems of the flow as a whole.
import type { Problem } from "../api/types";
import type { PlaitEdge } from "../lib/flow";
import { leaveEditor } from "./leaveEditor";

interface BannersProps {
  preview: boolean;
  dirty: boolean;
  dangling: PlaitEdge[];
  onRemoveDangling: () => void;
  problems: Problem[];
}

export function EditorBanners({ preview, dirty, dangling, onRemoveDangling, problems }: BannersProps) {
  const flowProblems = problems.filter((p) => !p.node_id);
  return (
    <>
      {preview ? (
        <div className="banner banner-preview" role="note" data-testid="preview-banner">
          <strong>Preview mode.</strong> Runs use the offline preview backend: free images that show what would be sent to
          Gemini. <a href="/settings" onClick={leaveEditor(dirty, "/settings")}>Add a Gemini key in Settings</a> to generate real images.
        </div>
      ) : null}
      {dangling.length ? (
        <div className="banner banner-error" role="alert" data-testid="dangling-edges">
          {dangling.length === 1 ? "An edge points" : `${dangling.length} edges point`} at a port that no longer exists:{" "}
          {dangling.map((e) => `${e.source}.${e.sourceHandle} → ${e.target}.${e.targetHandle}`).join(", ")}.{" "}
          <button type="button" className="link-button" onClick={onRemoveDangling}>
            Remove {dangling.length === 1 ? "it" : "them"}
          </button>
        </div>
      ) : null}
      {flowProblems.length ? (
        <div className="banner banner-error" role="alert" data-testid="flow-problems">
          {flowProblems.map((p, i) => (
            <div key={i}>{p.message}</div>
          ))}
        </div>
      ) : null}
    </>
  );
}
