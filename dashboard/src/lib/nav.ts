// The dashboard's pages, and how an empty state sends a person to the next one.
export type Tab = 'accounts' | 'compose' | 'calendar' | 'analytics'
export const TABS: Tab[] = ['accounts', 'compose', 'calendar', 'analytics']
export type Go = (tab: Tab) => void
