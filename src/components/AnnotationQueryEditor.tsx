import React from 'react';
import { QueryEditorProps } from '@grafana/data';

import type { DataSource } from '../datasource';
import { CBCOptions, CBCQuery } from '../types';
import { QueryEditor } from './QueryEditor';

/** Annotations are searches shown on the time axis: the query editor without its modes or export. */
export function AnnotationQueryEditor(props: QueryEditorProps<DataSource, CBCQuery, CBCOptions>) {
  return <QueryEditor {...props} context="annotations" />;
}
