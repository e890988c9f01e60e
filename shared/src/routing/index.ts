export { sessionKey, SESSION_HEADERS, type SessionKey, type SessionSource } from './session-key.js';
