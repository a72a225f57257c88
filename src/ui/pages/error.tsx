/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Session } from '../auth/session.js';
import { Layout, Notice } from './layout.js';

const TITLES: Record<number, string> = { 400: 'Not accepted', 403: 'Not allowed', 404: 'Not found', 409: 'Already done', 500: 'Server error' };

export function errorPage(props: { session?: Session | undefined; status: number; message: string }) {
  return (
    <Layout title={TITLES[props.status] ?? 'Error'} session={props.session}>
      <h1>{TITLES[props.status] ?? 'Error'}</h1>
      <Notice kind="error">{props.message}</Notice>
      <p>
        <a href="/">Back to the overview</a>
      </p>
    </Layout>
  );
}
