import { Component, type ErrorInfo, type ReactNode } from 'react';
import { describeError } from '../lib/describeError.ts';

interface Props {
  children: ReactNode;
  /** When this changes (the route), a caught error is cleared and the children render again. */
  resetKey: string;
}
interface State {
  error: unknown;
  resetKey: string;
}

/** Catches render errors of a page and shows them as a readable message instead of a blank page. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: undefined, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error ?? new Error('unknown error') };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    return props.resetKey === state.resetKey ? null : { error: undefined, resetKey: props.resetKey };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error('console page crashed', error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error === undefined) return this.props.children;
    return (
      <section className="panel" role="alert">
        <h2>This page failed to render</h2>
        <p className="error-text">{describeError(this.state.error).message}</p>
        <button type="button" onClick={() => this.setState({ error: undefined })}>
          Try again
        </button>
      </section>
    );
  }
}
