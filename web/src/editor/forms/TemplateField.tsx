// A text setting marked `format: template`: may hold {{ node.port }} references.
import { useRef } from "react";
import type { ReferenceChoices } from "../../lib/templateRefs";

export function TemplateField({
  id,
  value,
  onChange,
  references,
  rows = 3,
  describedBy,
  testId,
  placeholder,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  references: ReferenceChoices;
  rows?: number;
  describedBy?: string | undefined;
  testId?: string | undefined;
  placeholder?: string | undefined;
}) {
  const ref = useRef<HTMLTextAreaElement>(null);

  function insert(reference: string) {
    const area = ref.current;
    const token = `{{ ${reference} }}`;
    if (!area) return onChange(value + token);
    const start = area.selectionStart ?? value.length;
    const end = area.selectionEnd ?? value.length;
    onChange(value.slice(0, start) + token + value.slice(end));
    requestAnimationFrame(() => {
      area.focus();
      area.setSelectionRange(start + token.length, start + token.length);
    });
  }

  return (
    <div className="template-field">
      <textarea
        ref={ref}
        id={id}
        rows={rows}
        value={value}
        spellCheck
        placeholder={placeholder}
        aria-describedby={describedBy}
        data-testid={testId}
        onChange={(e) => onChange(e.target.value)}
      />
      <div className="template-tools">
        <span className="muted small">
          Insert values with <code>{"{{ node.port }}"}</code>
        </span>
        {references.upstream.length || references.unconnected.length ? (
          <select
            aria-label="Insert a reference"
            className="select-small"
            value=""
            onChange={(e) => {
              if (e.target.value) insert(e.target.value);
            }}
          >
            <option value="">Insert reference…</option>
            <ReferenceGroup label="Upstream of this node" group="upstream" refs={references.upstream} />
            <ReferenceGroup label="Not connected yet (using one wires its node in)" group="unconnected" refs={references.unconnected} />
          </select>
        ) : null}
      </div>
    </div>
  );
}

function ReferenceGroup({ label, group, refs }: { label: string; group: string; refs: readonly string[] }) {
  if (!refs.length) return null;
  return (
    <optgroup label={label} data-testid={`references-${group}`}>
      {refs.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </optgroup>
  );
}
