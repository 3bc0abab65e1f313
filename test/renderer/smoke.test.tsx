// @vitest-environment jsdom
import { render, screen } from '@testing-library/react';
import { expect, it } from 'vitest';

it('renders React components in a DOM', () => {
  render(<button type="button">Send</button>);
  expect(screen.getByRole('button', { name: 'Send' })).toBeInTheDocument();
});
