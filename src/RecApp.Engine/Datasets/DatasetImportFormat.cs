namespace RecApp.Engine.Datasets;

/// <summary>The file layouts the <c>import</c> verb reads; names as typed on the command line.</summary>
public static class DatasetImportFormat
{
    public const string MovieLens100K = "movielens100k";
    public const string MovieLens = "movielens";
    public const string Generic = "generic";
    public const string LastFm = "lastfm";

    public static IReadOnlyList<string> All { get; } = [MovieLens100K, MovieLens, Generic, LastFm];

    /// <summary>Reads <paramref name="directory"/> in <paramref name="format"/>; bad rows go to the report, layout errors throw.</summary>
    public static ImportResult Import(string format, string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DatasetImportException($"Directory '{directory}' does not exist.");
        }
        return format.ToLowerInvariant() switch
        {
            MovieLens100K => MovieLens100KImporter.Import(directory),
            MovieLens => MovieLensLatestImporter.Import(directory),
            Generic => GenericDatasetImporter.Import(directory),
            LastFm => LastFmImporter.Import(directory),
            _ => throw new DatasetImportException($"Unknown format '{format}'. Use one of: {string.Join(", ", All)}."),
        };
    }
}
