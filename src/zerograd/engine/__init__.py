"""The engine room beneath the chapter's concepts: BLAS and zerograd's own threads, kept memory, the thread
choice by timing, and what the machine can hold. The book's layers and nets use it; a reader of the book can skip it."""
