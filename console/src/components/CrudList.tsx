/** A paged list with a create form generated from the API's schema (admins). */
import { useState, type ReactNode } from 'react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Group, Pagination, Table, Title } from '@mantine/core';
import { Loading, Muted, ProblemAlert, RequireRole } from './common';
import { LazySchemaForm } from './LazyCommandForm';
import type { Role } from '../auth/session';
import type { UiSchema } from '@rjsf/utils';
import { ModalDialog } from './ModalDialog';

export interface Page<T> {
  items: T[];
  total: number;
}

export interface CrudListProps<T> {
  title: string;
  queryKey: string;
  load: (limit: number, offset: number) => Promise<Page<T>>;
  columns: [string, (row: T) => ReactNode][];
  rowKey: (row: T) => string;
  create?: {
    label: string;
    schema: Record<string, unknown>;
    validatorKey: string;
    role: Role;
    uiSchema?: UiSchema;
    send: (body: Record<string, unknown>) => Promise<void>;
  };
  actions?: (row: T) => ReactNode;
  actionsRole?: Role;
  filters?: ReactNode;
  /** what the list depends on besides the page (its filters) */
  params?: unknown;
}

export function CrudList<T>({ title, queryKey, load, columns, rowKey, create, actions, actionsRole = 'admin', filters, params }: CrudListProps<T>) {
  const client = useQueryClient();
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const list = useQuery({
    queryKey: [queryKey, params ?? null, page],
    queryFn: () => load(25, (page - 1) * 25),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={1}>{title}</Title>
        {create ? (
          <RequireRole role={create.role}>
            <Button onClick={() => setCreating(true)}>{create.label}</Button>
          </RequireRole>
        ) : null}
      </Group>
      {filters}
      <ProblemAlert error={list.error} title={`Could not load the ${title.toLowerCase()}`} />
      <Table.ScrollContainer minWidth={600}>
        <Table striped aria-label={title}>
          <Table.Thead>
            <Table.Tr>
              {columns.map(([h]) => (
                <Table.Th key={h}>{h}</Table.Th>
              ))}
              {actions ? (
                <RequireRole role={actionsRole}>
                  <Table.Th>Actions</Table.Th>
                </RequireRole>
              ) : null}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data?.items ?? []).map((row) => (
              <Table.Tr key={rowKey(row)}>
                {columns.map(([h, cell]) => (
                  <Table.Td key={h}>{cell(row)}</Table.Td>
                ))}
                {actions ? (
                  <RequireRole role={actionsRole}>
                    <Table.Td>{actions(row)}</Table.Td>
                  </RequireRole>
                ) : null}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {list.isLoading ? <Loading label={`Loading the ${title.toLowerCase()}`} /> : null}
      {list.data && !list.data.total ? <Muted>None yet.</Muted> : null}
      {list.data && list.data.total > 25 ? <Pagination mt="md" total={Math.ceil(list.data.total / 25)} value={page} onChange={setPage} /> : null}
      {create && creating ? (
        <ModalDialog opened onClose={() => setCreating(false)} title={create.label} size="lg">
          <LazySchemaForm
            schema={create.schema}
            submitText={create.label}
            idPrefix={queryKey}
            validatorKey={create.validatorKey}
            uiSchema={create.uiSchema}
            onSubmit={async (body) => {
              await create.send(body);
              setCreating(false);
              await client.invalidateQueries({ queryKey: [queryKey] });
            }}
          />
        </ModalDialog>
      ) : null}
    </>
  );
}
