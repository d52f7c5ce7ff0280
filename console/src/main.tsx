import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { MantineProvider } from '@mantine/core';
import '@mantine/core/styles.css';
import { loadConfig } from './config';
import { AppProvider } from './context';
import { App } from './App';
import { cssVariablesResolver, theme } from './theme';

const root = createRoot(document.getElementById('root')!);

loadConfig()
  .then((config) =>
    root.render(
      <StrictMode>
        <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="light">
          <AppProvider config={config}>
            <BrowserRouter basename={import.meta.env.BASE_URL.replace(/\/$/, '')}>
              <App />
            </BrowserRouter>
          </AppProvider>
        </MantineProvider>
      </StrictMode>,
    ),
  )
  .catch((error: unknown) => {
    root.render(
      <main role="alert" style={{ fontFamily: 'sans-serif', padding: 24 }}>
        <h1>The console could not start</h1>
        <p>{error instanceof Error ? error.message : String(error)}</p>
      </main>,
    );
  });
