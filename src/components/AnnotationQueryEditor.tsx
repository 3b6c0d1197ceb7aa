import React, { ComponentProps } from 'react';

import { QueryEditor } from './QueryEditor';

/** Annotations are searches shown on the time axis: the query editor without its modes or export. */
export function AnnotationQueryEditor(props: Omit<ComponentProps<typeof QueryEditor>, 'context'>) {
  return <QueryEditor {...props} context="annotations" />;
}
