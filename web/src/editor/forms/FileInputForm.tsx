// File Input: an upload (the editor's way) or a path (for `plait run` next to the flow file).
import { useId, useState } from "react";
import { api, errorMessage } from "../../api/client";
import type { JsonObject } from "../../api/types";

export function FileInputForm({ config, onChange }: { config: JsonObject; onChange: (next: JsonObject) => void }) {
  const pathId = useId();
  const [preview, setPreview] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const blob = typeof config["blob"] === "string" ? config["blob"] : null;
  const path = typeof config["path"] === "string" ? config["path"] : "";

  async function upload(file: File) {
    setBusy(true);
    setError(null);
    try {
      const answer = await api.upload(file);
      setPreview(answer.url);
      onChange({ ...config, blob: answer.image.$image.sha256, path: null });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <div className="field">
        <span className="field-label">Image</span>
        {preview ? <img className="reference-thumb large" src={preview} alt="Uploaded" /> : null}
        <p className="small">{blob ? <>Uploaded image <code>{blob.slice(0, 12)}…</code></> : <span className="muted">No upload.</span>}</p>
        <label className="button button-small file-button">
          {busy ? "Uploading…" : blob ? "Replace upload…" : "Upload image…"}
          <input
            type="file"
            accept="image/png,image/jpeg,image/webp,image/heic,image/heif"
            className="sr-only"
            data-testid="file-input-upload"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = "";
              if (f) void upload(f);
            }}
          />
        </label>
        {error ? <p className="field-message">{error}</p> : null}
      </div>
      <div className="field">
        <label className="field-label" htmlFor={pathId}>
          Or a path
        </label>
        <input
          id={pathId}
          type="text"
          value={path}
          spellCheck={false}
          placeholder="images/product.png"
          onChange={(e) => onChange({ ...config, path: e.target.value || null })}
        />
        <p className="field-hint">Relative to the flow file, for plait run. An upload wins in the editor.</p>
      </div>
    </>
  );
}
