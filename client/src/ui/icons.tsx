// Small inline icons (stroke style, 24x24).
const P = { width: 20, height: 20, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 2, strokeLinecap: 'round', strokeLinejoin: 'round' } as const;

export const IconPen = () => (
  <svg {...P}>
    <path d="M12 20h9" />
    <path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z" />
  </svg>
);
export const IconEraser = () => (
  <svg {...P}>
    <path d="m7 21-4.3-4.3a1 1 0 0 1 0-1.4l9.6-9.6a1 1 0 0 1 1.4 0l5.6 5.6a1 1 0 0 1 0 1.4L11 21" />
    <path d="M22 21H7" />
    <path d="m5 11 9 9" />
  </svg>
);
export const IconHand = () => (
  <svg {...P}>
    <path d="M18 11V6a2 2 0 0 0-4 0v5" />
    <path d="M14 10V4a2 2 0 0 0-4 0v6" />
    <path d="M10 10.5V6a2 2 0 0 0-4 0v8" />
    <path d="M18 8a2 2 0 1 1 4 0v6a8 8 0 0 1-8 8h-2c-2.8 0-4.5-.9-5.9-2.3l-3.6-3.6a2 2 0 0 1 2.8-2.8L7 15" />
  </svg>
);
export const IconUndo = () => (
  <svg {...P}>
    <path d="M9 14 4 9l5-5" />
    <path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" />
  </svg>
);
export const IconRedo = () => (
  <svg {...P}>
    <path d="m15 14 5-5-5-5" />
    <path d="M20 9H9.5a5.5 5.5 0 0 0 0 11H13" />
  </svg>
);
export const IconTrash = () => (
  <svg {...P}>
    <path d="M3 6h18" />
    <path d="M19 6v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V6" />
    <path d="M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2" />
  </svg>
);
export const IconDownload = () => (
  <svg {...P}>
    <path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4" />
    <path d="m7 10 5 5 5-5" />
    <path d="M12 15V3" />
  </svg>
);
export const IconLink = () => (
  <svg {...P}>
    <path d="M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7" />
    <path d="M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7" />
  </svg>
);
export const IconHome = () => (
  <svg {...P}>
    <path d="m3 10 9-7 9 7v10a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2Z" />
  </svg>
);
export const IconSelect = () => (
  <svg {...P}>
    <path d="m4 4 7 17 2.5-7.5L21 11Z" />
  </svg>
);
export const IconRect = () => (
  <svg {...P}>
    <rect x="3.5" y="5.5" width="17" height="13" rx="1.5" />
  </svg>
);
export const IconEllipse = () => (
  <svg {...P}>
    <ellipse cx="12" cy="12" rx="9" ry="7" />
  </svg>
);
export const IconLine = () => (
  <svg {...P}>
    <path d="M4 20 20 4" />
  </svg>
);
export const IconArrow = () => (
  <svg {...P}>
    <path d="M4 20 20 4" />
    <path d="M10 4h10v10" />
  </svg>
);
export const IconText = () => (
  <svg {...P}>
    <path d="M5 6V4h14v2" />
    <path d="M12 4v16" />
    <path d="M9 20h6" />
  </svg>
);
export const IconFill = () => (
  <svg {...P}>
    <rect x="4" y="4" width="16" height="16" rx="2" fill="currentColor" fillOpacity="0.25" />
  </svg>
);
