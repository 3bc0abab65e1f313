import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiProvider } from './app/api-context';
import { App } from './app/App';
import { applyRememberedTheme } from './app/theme';
import './styles/base.css';

applyRememberedTheme();

const container = document.getElementById('root');
if (container) {
  createRoot(container).render(
    <StrictMode>
      <ApiProvider>
        <App />
      </ApiProvider>
    </StrictMode>,
  );
}
