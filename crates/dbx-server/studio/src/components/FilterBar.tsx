// Filters as the REST API takes them: `column:op:value`, all of which must hold.
import { useState } from "preact/hooks";

const OPERATORS: [string, string][] = [
  ["eq", "="], ["ne", "≠"], ["lt", "<"], ["le", "≤"], ["gt", ">"], ["ge", "≥"],
  ["like", "like"], ["null", "is null"], ["notnull", "is not null"],
];

export function FilterBar({ columns, filters, onChange }: { columns: string[]; filters: string[]; onChange: (f: string[]) => void }) {
  const [column, setColumn] = useState(columns[0] ?? "");
  const [op, setOp] = useState("eq");
  const [value, setValue] = useState("");
  const needsValue = op !== "null" && op !== "notnull";
  const add = (e: Event) => {
    e.preventDefault();
    onChange([...filters, needsValue ? `${column}:${op}:${value}` : `${column}:${op}`]);
    setValue("");
  };
  return (
    <form class="filters" onSubmit={add}>
      <select aria-label="filter column" value={column} onChange={(e) => setColumn(e.currentTarget.value)}>
        {columns.map((c) => <option value={c}>{c}</option>)}
      </select>
      <select aria-label="filter operator" value={op} onChange={(e) => setOp(e.currentTarget.value)}>
        {OPERATORS.map(([v, label]) => <option value={v}>{label}</option>)}
      </select>
      {needsValue && <input aria-label="filter value" placeholder="value (like: a%)" value={value} onInput={(e) => setValue(e.currentTarget.value)} />}
      <button type="submit">Filter</button>
      {filters.map((f, i) => (
        <span class="chip">{f}<button type="button" aria-label={`remove filter ${f}`} onClick={() => onChange(filters.filter((_, j) => j !== i))}>×</button></span>
      ))}
    </form>
  );
}
