namespace RecApp.Engine.Model;

/// <summary>Weighted preferences of one user; category and tag weights each sum to 1.</summary>
public sealed record UserProfile(
    IReadOnlyDictionary<string, float> Categories, IReadOnlyDictionary<string, float> Tags, decimal? AvgPrice, int InteractionCount);

/// <summary>Each user's profile.</summary>
public sealed record ProfileModel(IReadOnlyDictionary<long, UserProfile> Users);
