import { lazy, Suspense, useEffect } from 'react';
import { QuickAsk } from '../views/quick-ask/QuickAsk';
import { SignIn } from '../views/sign-in/SignIn';
import { useApi } from './api-context';
import { useRoute } from './router';

// Quick ask is in the first chunk so its input is usable at once; the rest loads on demand.
const ChatView = lazy(() => import('../views/chat/ChatView'));
const SettingsView = lazy(() => import('../views/settings/SettingsView'));
const JobsView = lazy(() => import('../views/jobs/JobsView'));
const UsageView = lazy(() => import('../views/usage/UsageView'));
const TasksView = lazy(() => import('../views/tasks/TasksView'));
const TaskPage = lazy(() => import('../views/tasks/TaskPage'));

function Loading() {
  return <div className="view-loading" aria-busy="true" />;
}

export function App() {
  const route = useRoute();
  const { auth, checkAuth } = useApi();

  useEffect(() => {
    void checkAuth();
  }, [checkAuth]);

  if (auth === 'signed-out') return <SignIn />;
  if (route.view === 'quick-ask') return <QuickAsk />;
  return (
    <Suspense fallback={<Loading />}>
      {route.view === 'settings' ? (
        <SettingsView />
      ) : route.view === 'jobs' ? (
        <JobsView />
      ) : route.view === 'usage' ? (
        <UsageView />
      ) : route.view === 'tasks' ? (
        route.taskId ? (
          <TaskPage key={route.taskId} taskId={route.taskId} />
        ) : (
          <TasksView />
        )
      ) : (
        <ChatView sessionId={route.sessionId} />
      )}
    </Suspense>
  );
}
