namespace RecApp.Engine.Domain;

/// <summary>Which source answered, as the API reports it in <c>algorithm_used</c>.</summary>
public enum RecommendationAlgorithm
{
    Popular,
    Content,
    Collaborative,
    Similar,
}

public static class RecommendationAlgorithms
{
    private static readonly string[] s_wireNames = [.. Enum.GetNames<RecommendationAlgorithm>().Select(n => n.ToLowerInvariant())];

    /// <summary>The name on the wire (<c>algorithm_used</c>), in metrics and in reports: <c>popular</c>, <c>content</c>, ...</summary>
    public static string ToWireName(this RecommendationAlgorithm algorithm) => s_wireNames[(int)algorithm];
}

/// <summary>
/// The one tier rule: what a user is answered by the number of distinct items they ever interacted with. None: the
/// popular list of their segment; one or two: content-led; from <see cref="CollaborativeFrom"/>: the learned blend.
/// </summary>
public static class UserTier
{
    /// <summary>Distinct items from which a user is in the collaborative tier.</summary>
    public const int CollaborativeFrom = 3;

    public static RecommendationAlgorithm Of(int distinctItems) => distinctItems switch
    {
        0 => RecommendationAlgorithm.Popular,
        < CollaborativeFrom => RecommendationAlgorithm.Content,
        _ => RecommendationAlgorithm.Collaborative,
    };

    /// <summary>The tier as reports group users: <c>0</c>, <c>1-2</c>, <c>3+</c>.</summary>
    public static string Label(int distinctItems) => Of(distinctItems) switch
    {
        RecommendationAlgorithm.Popular => "0",
        RecommendationAlgorithm.Content => $"1-{CollaborativeFrom - 1}",
        _ => $"{CollaborativeFrom}+",
    };
}
