using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;

namespace RecApp.Engine.Model;


/// <summary>Popular lists per segment (thin segments are absent).</summary>
public sealed record PopularityModel(IReadOnlyDictionary<Segment, ScoredIds> Lists);

/// <summary>Trending lists: <see cref="Overall"/> and per category.</summary>
public sealed record TrendingModel(ScoredIds Overall, IReadOnlyDictionary<string, ScoredIds> ByCategory);

/// <summary>Top-K neighbors per item id, collaborative and content.</summary>
public sealed record ItemNeighborModel(IReadOnlyDictionary<long, ScoredIds> Collaborative, IReadOnlyDictionary<long, ScoredIds> Content);

/// <summary>A user's nearest users and the items those users liked, weighted by similarity (precomputed candidates).</summary>
public sealed record UserNeighborhood(ScoredIds Neighbors, ScoredIds Items);

public sealed record UserNeighborModel(IReadOnlyDictionary<long, UserNeighborhood> Users);

/// <summary>Weighted preferences of one user; category and tag weights each sum to 1.</summary>
public sealed record UserProfile(
    IReadOnlyDictionary<string, float> Categories, IReadOnlyDictionary<string, float> Tags, decimal? AvgPrice, int InteractionCount);

public sealed record ProfileModel(IReadOnlyDictionary<long, UserProfile> Users);
