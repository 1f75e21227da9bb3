namespace RecApp.Engine.Domain;

/// <summary>
/// Who a list is for: a request's user parameters, and the key of a stored popular list (a segment); null means "any".
/// Category narrows the item side, the rest the user side. The user-side dimensions are kept in the subsets of
/// <see cref="Chain"/>, most specific first: a build stores a list per segment of each subset (when it has enough
/// users), and a request falls back through the same order (<see cref="FallbackChain"/>).
/// </summary>
public readonly record struct Demographics(string? Gender = null, string? AgeGroup = null, int? GeoId = null, string? Category = null)
{
    /// <summary>The user-side dimensions of each segment level, most specific first, ending with the global segment.</summary>
    internal static readonly SegmentDimensions[] Chain =
    [
        SegmentDimensions.Geo | SegmentDimensions.Gender | SegmentDimensions.Age,
        SegmentDimensions.Gender | SegmentDimensions.Age,
        SegmentDimensions.Geo | SegmentDimensions.Gender,
        SegmentDimensions.Geo | SegmentDimensions.Age,
        SegmentDimensions.Geo,
        SegmentDimensions.Age,
        SegmentDimensions.Gender,
        SegmentDimensions.None,
    ];

    /// <summary>The segment of these demographics at one level; null when the level needs a dimension they lack.</summary>
    internal static Demographics? At(SegmentDimensions level, int? geoId, string? gender, string? ageGroup)
    {
        if ((level.HasFlag(SegmentDimensions.Geo) && geoId is null) || (level.HasFlag(SegmentDimensions.Gender) && gender is null)
            || (level.HasFlag(SegmentDimensions.Age) && ageGroup is null))
        {
            return null;
        }
        return new Demographics(
            GeoId: level.HasFlag(SegmentDimensions.Geo) ? geoId : null,
            Gender: level.HasFlag(SegmentDimensions.Gender) ? gender : null,
            AgeGroup: level.HasFlag(SegmentDimensions.Age) ? ageGroup : null);
    }

    /// <summary>Most specific first: the segments a request for these demographics tries, then the global segment.</summary>
    public static IEnumerable<Demographics> FallbackChain(int? geoId, string? gender, string? ageGroup)
    {
        foreach (var level in Chain)
        {
            if (At(level, geoId, gender, ageGroup) is { } segment)
            {
                yield return segment;
            }
        }
    }
}

/// <summary>The user-side dimensions a segment level keeps.</summary>
[Flags]
internal enum SegmentDimensions
{
    None = 0,
    Geo = 1,
    Gender = 2,
    Age = 4,
}
