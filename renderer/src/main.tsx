import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ServiceHome } from './ServiceHome';
import './styles.css';

const container = document.getElementById('root');
if (container) {
  createRoot(container).render(
    <StrictMode>
      <ServiceHome />
    </StrictMode>,
  );
}
