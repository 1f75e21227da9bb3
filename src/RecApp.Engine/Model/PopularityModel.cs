using RecApp.Engine.Domain;

namespace RecApp.Engine.Model;

/// <summary>Popular lists per segment (thin segments are absent).</summary>
public sealed record PopularityModel(IReadOnlyDictionary<Demographics, ScoredIds> Lists);

/// <summary>Trending lists: <see cref="Overall"/> and per category.</summary>
public sealed record TrendingModel(ScoredIds Overall, IReadOnlyDictionary<string, ScoredIds> ByCategory);
