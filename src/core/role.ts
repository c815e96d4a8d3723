/** `read`: queries only; `write`: commands and queries; `admin`: also operator requests. */
export type Role = "read" | "write" | "admin";

export const roles: readonly Role[] = ["read", "write", "admin"];
