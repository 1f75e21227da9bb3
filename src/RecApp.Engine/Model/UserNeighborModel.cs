namespace RecApp.Engine.Model;

/// <summary>A user's nearest users and the items those users liked, weighted by similarity (precomputed candidates).</summary>
public sealed record UserNeighborhood(ScoredIds Neighbors, ScoredIds Items);

/// <summary>Each user's neighborhood (users with too few items have none).</summary>
public sealed record UserNeighborModel(IReadOnlyDictionary<long, UserNeighborhood> Users);
