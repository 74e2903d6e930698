// cluster-key-slot (the package ioredis itself uses to route commands) ships no type declarations.
// It is CommonJS (`module.exports = calculateSlot`), which Node hands to ES modules as the default
// export: hence a default export here, the one place where the named-exports rule cannot apply.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0…16383) of a key, honouring `{hash tags}`. */
  // eslint-disable-next-line no-restricted-syntax
  export default function calculateSlot(key: string | Buffer): number;
}
