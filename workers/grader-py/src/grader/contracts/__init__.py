"""Contracts generated from packages/contracts (TypeScript/zod). Do not edit the modules here."""
