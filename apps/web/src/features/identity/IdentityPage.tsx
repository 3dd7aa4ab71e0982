import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ErrorText } from '../../components/ErrorText.tsx';
import { Spinner } from '../../components/Spinner.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { useSession } from '../../lib/session.ts';
import { isAdminIdentity } from '../../lib/sessionStore.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { toIdentity } from './toIdentity.ts';

/** The demo users offered with one click; any other name can be typed. */
export const DEMO_USERS = ['alice', 'bob', 'carol', 'dave'] as const;
/** The demo admin's user id. */
export const DEMO_ADMIN = 'admin';

/**
 * Switches this tab's identity through `auth.login` (the development identity provider). The token
 * is kept per tab, so two tabs can be two users; switching drops the previous user's cached data
 * and live streams.
 */
export function IdentityPage() {
  const trpc = useTRPC();
  const { session, signIn, signOut } = useSession();
  const [name, setName] = useState('');
  const [asAdmin, setAsAdmin] = useState(false);
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: (output) => {
        signIn(toIdentity(output));
        if (window.location.hash === '' || window.location.hash.startsWith('#/identity'))
          window.location.hash = '#/live';
      },
    }),
  );
  const current = session.identity;

  const loginAs = (userId: string, admin: boolean) => {
    login.mutate(admin ? { userId, role: 'admin' } : { userId });
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim() !== '') loginAs(name.trim(), asAdmin);
  };

  return (
    <section className="stack" aria-labelledby="identity-title">
      <div className="page-head">
        <h2 id="identity-title">Identity</h2>
        <p>Who this tab acts as. Each tab keeps its own token, so two tabs can be two users.</p>
      </div>
      <div className="panel stack">
        <div className="row" data-testid="current-identity">
          <span className="muted">Signed in as</span>
          {current === undefined ? (
            <strong>nobody</strong>
          ) : (
            <>
              <strong className="mono">{current.userId}</strong>
              <StatusBadge status={isAdminIdentity(current) ? 'admin' : 'user'} />
              <button type="button" onClick={signOut}>
                Sign out
              </button>
            </>
          )}
        </div>
        <fieldset className="row" style={{ border: 0, padding: 0, margin: 0 }}>
          <legend className="muted small">Sign in as a demo user</legend>
          {DEMO_USERS.map((user) => (
            <button
              key={user}
              type="button"
              className={current?.userId === user && !isAdminIdentity(current) ? 'primary' : ''}
              disabled={login.isPending}
              onClick={() => loginAs(user, false)}
            >
              {user}
            </button>
          ))}
          <button
            type="button"
            className={current?.userId === DEMO_ADMIN ? 'primary' : ''}
            disabled={login.isPending}
            onClick={() => loginAs(DEMO_ADMIN, true)}
          >
            {DEMO_ADMIN} (admin)
          </button>
        </fieldset>
        <form className="row" onSubmit={onSubmit}>
          <label>
            Other user id
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. erin" autoComplete="off" />
          </label>
          <label className="inline">
            <input type="checkbox" checked={asAdmin} onChange={(e) => setAsAdmin(e.target.checked)} />
            admin role
          </label>
          <button type="submit" className="primary" disabled={login.isPending || name.trim() === ''}>
            Sign in
          </button>
          {login.isPending && <Spinner label="signing in" />}
        </form>
        <ErrorText error={login.error} prefix="Sign-in failed" />
      </div>
    </section>
  );
}
