import React from 'react';
import { QueryEditorHelpProps } from '@grafana/data';
import { Button, Stack, Text } from '@grafana/ui';

import { CBCQuery } from '../types';

/** Searches security teams start from; each example is a complete query, runnable as it is. */
export const EXAMPLES: Array<{ title: string; query: string; note: string }> = [
  { title: 'Failed logins', query: 'description:"Login failed"', note: 'Every failed console or API login.' },
  {
    title: 'API key changes',
    query: 'description:("API key" OR "API ID") AND (created OR deleted OR updated OR regenerated)',
    note: 'Keys created, deleted or given a new secret.',
  },
  {
    title: 'Live Response sessions',
    query: 'description:"Live Response"',
    note: 'Sessions opened on endpoints, and the commands run in them.',
  },
  {
    title: 'Policy edits',
    query: 'description:policy AND (updated OR created OR deleted)',
    note: 'Changes to prevention policies.',
  },
  { title: "One IP's activity", query: 'actor_ip:203.0.113.10', note: 'Everything done from one address.' },
  {
    title: 'Flagged, not by a service account',
    query: 'flagged:true AND NOT actor:svc-*',
    note: 'Security-relevant events by people.',
  },
];

/** The cheat sheet Grafana shows under the query editor's help: the syntax, and examples to click. */
export function QueryHelp({ onClickExample, query }: QueryEditorHelpProps<CBCQuery>) {
  return (
    <Stack direction="column" gap={2}>
      <Text element="h3">Carbon Black Cloud audit log searches</Text>
      <Text color="secondary">
        Lucene: field:value, field:&quot;a phrase&quot;, AND / OR / NOT, parentheses, field:(a OR b), * and ? wildcards,
        /regex/, ranges such as create_time:[now-1d TO now], _exists_:field. A bare word searches the description and
        the actor, IP, URL and org key. Fields: actor, actor_ip, description, request_url, flagged, verbose, org_key,
        create_time.
      </Text>
      {EXAMPLES.map((e) => (
        <Stack key={e.title} direction="column" gap={0.5}>
          <Text weight="medium">{e.title}</Text>
          <Text color="secondary" variant="bodySmall">
            {e.note}
          </Text>
          <Stack gap={1} alignItems="center">
            <code>{e.query}</code>
            <Button
              size="sm"
              variant="secondary"
              aria-label={`Use the ${e.title} example`}
              onClick={() => onClickExample({ ...query, query: e.query, editorMode: 'code' })}
            >
              Use
            </Button>
          </Stack>
        </Stack>
      ))}
    </Stack>
  );
}
