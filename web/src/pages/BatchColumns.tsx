// What a rows file for this flow holds: one column per trigger field, with a template to fill in.
import { useMemo } from "react";
import type { FlowDetail } from "../api/types";
import { TableHead } from "../components/TableHead";
import { templateCsv, triggerFields } from "../lib/triggerFields";

const COLUMNS = ["Column", "Holds", "Required", "About"];

const CELL: Record<string, string> = {
  text: "text",
  number: "a number",
  boolean: "true or false",
  json: "JSON",
  image: "an http(s) URL, or the name of an image file added below",
};

export function BatchColumns({ flow }: { flow: FlowDetail }) {
  const triggers = useMemo(() => triggerFields(flow.document), [flow.document]);
  const first = triggers[0];
  if (!first) return <p className="muted" data-testid="batch-columns">This flow has no HTTP Trigger: each row runs it with no inputs.</p>;
  const href = `data:text/csv;charset=utf-8,${encodeURIComponent(templateCsv(first.fields))}`;
  const file = `${(flow.name || "flow").replace(/[^A-Za-z0-9_-]+/g, "-")}-rows.csv`;
  return (
    <section className="panel-section" aria-labelledby="batch-columns-title" data-testid="batch-columns">
      <h2 id="batch-columns-title">Columns</h2>
      <p className="muted">
        One column per field of <code>{first.id}</code>
        {triggers.length > 1 ? ` (the flow has ${triggers.length} triggers; rows feed the first)` : ""}. A JSON Lines file uses the same
        names as keys.
      </p>
      <table className="table table-compact">
        <TableHead columns={COLUMNS} />
        <tbody>
          {first.fields.map((f) => (
            <tr key={f.name} data-testid={`batch-column-${f.name}`}>
              <td>
                <code>{f.name}</code>
              </td>
              <td>{CELL[f.type] ?? f.type}</td>
              <td>{f.required ? "yes" : "no"}</td>
              <td className="muted">{f.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <a className="button button-small" href={href} download={file} data-testid="batch-template-csv">
        Download a template CSV
      </a>
    </section>
  );
}
