"""The models: each family's network (nets), the family registry (families), seeded weights (seeding)."""
