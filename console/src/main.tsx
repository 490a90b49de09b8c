import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import './styles.css';
import { AccountPage, ForgotPasswordPage, ResetPasswordPage } from './pages/account.tsx';
import { ActivityPage } from './pages/activity.tsx';
import { BootstrapPage } from './pages/bootstrap.tsx';
import { EnrollmentPage, EnrollmentsPage, NewEnrollmentPage } from './pages/enrollments.tsx';
import { EntityList } from './pages/entities.tsx';
import { ChannelPage, ThingPage } from './pages/entity.tsx';
import { GroupPage, GroupsPage } from './pages/groups.tsx';
import { KeysPage } from './pages/keys.tsx';
import { LayoutPage, LayoutsPage, NEW_PATH, NewLayoutPage } from './pages/layouts.tsx';
import { LoginPage } from './pages/login.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { ProvisionPage } from './pages/provision.tsx';
import { match, navigate, useRoute } from './router.ts';
import { signOut, useSession } from './session.ts';

const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/things', label: 'Things' },
  { path: '/channels', label: 'Channels' },
  { path: '/groups', label: 'Groups' },
  { path: '/provision', label: 'Provision' },
  { path: '/enrollments', label: 'Enrollment groups' },
  { path: '/layouts', label: 'Layouts' },
  { path: '/bootstrap', label: 'Bootstrap' },
  { path: '/keys', label: 'API keys' },
  { path: '/activity', label: 'Activity' },
  { path: '/account', label: 'Account' },
];

/** The pages open without a session: logging in, creating an account, resetting a password. */
const OPEN_PAGES: Record<string, string> = {
  '/login': 'Log in',
  '/register': 'Create an account',
  '/forgot-password': 'Reset your password',
  '/reset-password': 'Choose a new password',
};

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  if (path === '/' || path === '') return <OverviewPage />;
  if (path === '/things') return <EntityList kind="things" query={query} />;
  if (path === '/channels') return <EntityList kind="channels" query={query} />;
  const thing = match('/things/:id', path);
  if (thing) return <ThingPage key={thing.id} id={thing.id!} />;
  const channel = match('/channels/:id', path);
  if (channel) return <ChannelPage key={channel.id} id={channel.id!} />;
  if (path === '/provision') return <ProvisionPage />;
  if (path === '/layouts') return <LayoutsPage query={query} />;
  if (path === NEW_PATH) return <NewLayoutPage key={query.get('from') ?? ''} query={query} />;
  const layout = match('/layouts/:name', path);
  if (layout) return <LayoutPage key={layout.name} name={layout.name!} query={query} />;
  if (path === '/enrollments') return <EnrollmentsPage query={query} />;
  if (path === '/enrollments/new') return <NewEnrollmentPage />;
  const group = match('/enrollments/:id', path);
  if (group) return <EnrollmentPage key={group.id} id={group.id!} query={query} />;
  if (path === '/bootstrap') return <BootstrapPage query={query} />;
  if (path === '/keys') return <KeysPage />;
  if (path === '/groups') return <GroupsPage />;
  const userGroup = match('/groups/:id', path);
  if (userGroup) return <GroupPage key={userGroup.id} id={userGroup.id!} />;
  if (path === '/account' || path === '/forgot-password') return <AccountPage />;
  // A reset link opened in a tab that is logged in still sets the password.
  if (path === '/reset-password') return <ResetPasswordPage token={query.get('token') ?? ''} />;
  if (path === '/activity') return <ActivityPage query={query} />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no console page at <code>#{path}</code>. <a href="#/">Go to the overview</a>.
      </p>
    </section>
  );
}

function App() {
  const session = useSession();
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const section = route.path.split('/')[1] ?? '';

  // A new page moves focus to its content, as a page load would.
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [route.path]);

  useEffect(() => {
    const name =
      NAV.find((n) => n.path !== '/' && n.path.slice(1) === section)?.label ??
      (session ? 'Overview' : (OPEN_PAGES[route.path] ?? 'Log in'));
    document.title = `${name} · Tethys console`;
  }, [section, session, route.path]);

  if (!session) {
    if (!OPEN_PAGES[route.path]) navigate('/login', undefined, true);
    return (
      <main id="main" ref={main} tabIndex={-1} class="login-main">
        {route.path === '/forgot-password' ? (
          <ForgotPasswordPage />
        ) : route.path === '/reset-password' ? (
          <ResetPasswordPage token={route.query.get('token') ?? ''} />
        ) : (
          <LoginPage mode={route.path === '/register' ? 'register' : 'login'} />
        )}
      </main>
    );
  }
  if (route.path === '/login' || route.path === '/register') {
    navigate('/', undefined, true);
    return null;
  }

  return (
    <>
      {/* A button, not an #anchor link: the hash holds the route. */}
      <button type="button" class="skip" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <a class="brand" href="#/">
          <span aria-hidden="true">◎</span> Tethys
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => {
              const current =
                n.path === '/'
                  ? route.path === '/'
                  : route.path === n.path || route.path.startsWith(`${n.path}/`);
              return (
                <li key={n.path}>
                  <a href={`#${n.path}`} aria-current={current ? 'page' : undefined}>
                    {n.label}
                  </a>
                </li>
              );
            })}
          </ul>
        </nav>
        <div class="who">
          <span class="email" title={session.email}>
            {session.email}
          </span>
          <button type="button" class="small" onClick={() => signOut('You have logged out.')}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page path={route.path} query={route.query} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
