import catalogue from './detections.json';

/** One parameter of a detection, or a part of the organisation's profile, as the catalogue has it. */
export interface DetectionParameter {
  name: string;
  label: string;
  kind?: 'count' | 'duration' | 'list';
  default?: string;
  options?: string[];
  help?: string;
}

/** One detection of the security signals (src/detections.json, which the backend embeds). */
export interface Detection {
  id: string;
  name: string;
  technique: string;
  techniqueName: string;
  severity: string;
  entity: string;
  explanation: string;
  parameters: DetectionParameter[];
  /** The parts of the organisation's profile it reads; a query may set them in place of the data source's. */
  profile?: string[];
  needsGeoIP?: boolean;
}

export const DETECTIONS: Detection[] = catalogue.detections as Detection[];
export const PROFILE_PARTS: DetectionParameter[] = catalogue.profile;

export function detectionById(id: string | undefined): Detection | undefined {
  return DETECTIONS.find((d) => d.id === id);
}

/** The parameters a query may set for a detection: its own, then the profile parts it reads. */
export function parametersOf(d: Detection): DetectionParameter[] {
  return [...d.parameters, ...PROFILE_PARTS.filter((p) => d.profile?.includes(p.name))];
}

/** The explanation in words, with the values of its parameters: the query's, or else the defaults. */
export function explain(d: Detection, values: Record<string, string> = {}): string {
  return d.explanation.replace(/`([a-z_]+)`/g, (_, name: string) => {
    const p = d.parameters.find((x) => x.name === name);
    return values[name] || p?.default || name;
  });
}

const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;

/** What is wrong with a typed parameter value, checked as the backend would; a variable is checked once replaced. */
export function parameterProblem(p: DetectionParameter, value: string): string | undefined {
  const v = value.trim();
  if (v === '' || v.includes('$')) {
    return undefined;
  }
  if (p.kind === 'count' && !(/^\d+$/.test(v) && Number(v) >= 1)) {
    return 'A whole number of at least 1.';
  }
  if (p.kind === 'duration' && !DURATION.test(v)) {
    return 'A duration such as 30s, 10m or 2h.';
  }
  if (p.kind === 'list' && v.split(',').some((o) => !p.options?.includes(o.trim()))) {
    return `Some of ${p.options?.join(', ')}, separated by commas.`;
  }
  if (p.name === 'baseline_days' && !(/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 90)) {
    return 'A whole number of days from 1 to 90.';
  }
  return undefined;
}
