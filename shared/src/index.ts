export const TOKIOS_VERSION = "0.1.0";
