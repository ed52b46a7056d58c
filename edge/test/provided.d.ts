declare module "vitest" {
  interface ProvidedContext {
    originUrl: string;
  }
}

export {};
