import React, { ReactNode, useState } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Collapse, useStyles2 } from '@grafana/ui';

interface Props {
  /** What the options are set to, shown while the group is closed. */
  summary: string;
  /** Open from the start: when an option is invalid, the user must see it. */
  open?: boolean;
  children: ReactNode;
}

/** The query's options, collapsed under a one-line summary as Loki's editor has them. */
export function OptionsGroup({ summary, open = false, children }: Props) {
  const [isOpen, setOpen] = useState(open);
  const styles = useStyles2(getStyles);
  const shown = isOpen || open;
  return (
    <Collapse
      className={styles.collapse}
      isOpen={shown}
      onToggle={() => setOpen(!shown)}
      label={
        <span className={styles.label}>
          <span className={styles.title}>Options</span>
          {!shown && <span className={styles.summary}>{summary}</span>}
        </span>
      }
    >
      {children}
    </Collapse>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  collapse: css({ background: 'none', border: 'none', marginBottom: 0 }),
  label: css({ display: 'flex', gap: theme.spacing(2), alignItems: 'baseline' }),
  title: css({ fontSize: theme.typography.bodySmall.fontSize, fontWeight: theme.typography.fontWeightMedium }),
  summary: css({ fontSize: theme.typography.bodySmall.fontSize, color: theme.colors.text.secondary }),
});
