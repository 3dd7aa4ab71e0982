import { useVirtualizer } from '@tanstack/react-virtual';
import { type ReactNode, type RefObject, useEffect, useRef } from 'react';

/** Props of {@link VirtualRows}. */
export interface VirtualRowsProps {
  count: number;
  /** Stable key of row `index` (keeps measured sizes across updates). */
  rowKey: (index: number) => string;
  renderRow: (index: number) => ReactNode;
  /** Initial estimate of a row's height in px; real heights are measured. */
  estimateSize?: number;
  /** Height of the scroll area (CSS). */
  height: string;
  /** Row index to keep in view (the replay cursor). */
  scrollToIndex?: number | undefined;
  /** Keep the view pinned to the end while new rows arrive (live timelines). */
  follow?: boolean;
  className?: string;
  label?: string;
  scrollRef?: RefObject<HTMLDivElement | null>;
}

/**
 * A list that renders only the rows in view (`@tanstack/react-virtual`, measured row heights),
 * so a run of 10,000 events scrolls as smoothly as one of ten.
 */
export function VirtualRows(props: VirtualRowsProps) {
  const ownRef = useRef<HTMLDivElement | null>(null);
  const parentRef = props.scrollRef ?? ownRef;
  const virtualizer = useVirtualizer({
    count: props.count,
    getScrollElement: () => parentRef.current,
    estimateSize: () => props.estimateSize ?? 22,
    getItemKey: props.rowKey,
    overscan: 12,
  });
  const { scrollToIndex, follow, count } = props;

  useEffect(() => {
    if (scrollToIndex !== undefined && scrollToIndex >= 0 && scrollToIndex < count) {
      virtualizer.scrollToIndex(scrollToIndex, { align: 'auto' });
    }
  }, [scrollToIndex, count, virtualizer]);

  useEffect(() => {
    if (follow === true && count > 0) virtualizer.scrollToIndex(count - 1, { align: 'end' });
  }, [follow, count, virtualizer]);

  const items = virtualizer.getVirtualItems();
  return (
    <div ref={parentRef} className={`scroll ${props.className ?? ''}`} style={{ maxHeight: props.height }}>
      <ul
        aria-label={props.label}
        style={{
          height: virtualizer.getTotalSize(),
          position: 'relative',
          width: '100%',
          margin: 0,
          padding: 0,
          listStyle: 'none',
        }}
      >
        {items.map((item) => (
          <li
            key={item.key}
            data-index={item.index}
            ref={virtualizer.measureElement}
            style={{ position: 'absolute', top: 0, left: 0, width: '100%', transform: `translateY(${item.start}px)` }}
          >
            {props.renderRow(item.index)}
          </li>
        ))}
      </ul>
    </div>
  );
}
