/** A labelled select: the label tied to its control (screen readers, axe), the choice handed
 * back as a string. Every option list in the app goes through here. */
export interface Choice {
  value: string;
  label: string;
}

/** Granularities as people read them. */
export const GRANULARITY_CHOICES: readonly Choice[] = [
  { value: 'day', label: 'Daily' },
  { value: 'week', label: 'Weekly' },
  { value: 'month', label: 'Monthly' },
];

interface Props {
  id: string;
  label: string;
  value: string;
  choices: readonly Choice[];
  onChange: (value: string) => void;
  testId?: string;
}

export function SelectField({ id, label, value, choices, onChange, testId }: Props) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)} data-testid={testId}>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  );
}
