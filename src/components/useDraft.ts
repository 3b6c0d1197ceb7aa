import { useState } from 'react';

/**
 * useDraft keeps what the user is typing in a box, and follows the query when it changes from outside (Explore's
 * history, the query library, a JSON edit, a variable editor): the box never shows, nor writes back, a stale value.
 */
export function useDraft(value: string): [string, (v: string) => void] {
  const [draft, setDraft] = useState(value);
  const [followed, setFollowed] = useState(value);
  if (followed !== value) {
    // The query changed from outside: adjust during render, as React advises for state derived from props.
    setFollowed(value);
    setDraft(value);
  }
  return [draft, setDraft];
}
