namespace RecApp.Engine.Tests;

/// <summary>
/// The real datasets some tests measure on (MovieLens latest-small, HetRec 2011 Last.fm 2K). Their licences forbid
/// committing them, so they live outside the repository: in <c>RECAPP_DATASETS</c>, else in <c>../shared/datasets</c>
/// beside the repository root. A test asks for one with <see cref="Require"/>:
/// <list type="bullet">
/// <item>found: the test runs on it;</item>
/// <item>absent and <c>RECAPP_DATASETS</c> unset (a new user's clone): the test is skipped, saying what it needs and
/// where to get it;</item>
/// <item>absent although <c>RECAPP_DATASETS</c> is set (CI sets it): the test fails. Data CI was told to expect is
/// never skipped in silence.</item>
/// </list>
/// </summary>
public static class SharedDatasets
{
    public const string Variable = "RECAPP_DATASETS";

    /// <summary>Trait name for tests that need a shared dataset: <c>--filter "Data!=shared"</c> leaves them out.</summary>
    public const string Trait = "Data";
    public const string TraitValue = "shared";

    public static readonly SharedDataset MovieLensSmall = new("ml-latest-small", "ratings.csv",
        "https://grouplens.org/datasets/movielens/latest/ (ml-latest-small.zip)");

    public static readonly SharedDataset LastFm = new("hetrec2011-lastfm-2k", "user_artists.dat",
        "https://grouplens.org/datasets/hetrec-2011/ (hetrec2011-lastfm-2k.zip)");

    /// <summary>Where datasets are looked for, and whether that place was named explicitly.</summary>
    public static (string Folder, bool Explicit) Root()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } configured)
        {
            return (Path.GetFullPath(configured), true);
        }
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RecApp.sln")))
            {
                return (Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "datasets")), false);
            }
        }
        return (Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "shared", "datasets")), false);
    }

    /// <summary>The dataset's folder when it is there, else null (for tests that have another input to fall back on).</summary>
    public static string? Find(SharedDataset dataset)
    {
        var (root, isExplicit) = Root();
        var folder = Path.Combine(root, dataset.Folder);
        if (File.Exists(Path.Combine(folder, dataset.MarkerFile)))
        {
            return folder;
        }
        if (isExplicit)
        {
            Assert.Fail($"{Variable}={root} but {Path.Combine(folder, dataset.MarkerFile)} is missing: unset {Variable} to skip " +
                $"the tests that need it, or put {dataset.Folder} there (from {dataset.DownloadPage}).");
        }
        return null;
    }

    /// <summary>The dataset's folder; skips the test (fails it, where <c>RECAPP_DATASETS</c> is set) when it is absent.</summary>
    public static string Require(SharedDataset dataset)
    {
        var folder = Find(dataset);
        if (folder is null)
        {
            Assert.Skip($"needs the {dataset.Folder} dataset, which is not in the repository (its licence forbids it): " +
                $"put it in ../shared/datasets/{dataset.Folder} beside the repository or point {Variable} at a folder holding it; " +
                $"download: {dataset.DownloadPage}.");
        }
        return folder;
    }
}

/// <summary>One shared dataset: its folder name, a file that must be in it, and where to download it.</summary>
public sealed record SharedDataset(string Folder, string MarkerFile, string DownloadPage);
