using System.Text;
using RecApp.Engine.Domain;

namespace RecApp.Engine.Datasets;

/// <summary>A file or layout problem that makes a whole import impossible (as opposed to one bad row).</summary>
public sealed class DatasetImportException(string message) : Exception(message);

/// <summary>
/// Collects what importers read, rejecting rows that would make an inconsistent dataset (duplicate ids, interactions
/// with unknown items) into the <see cref="ImportReport"/>. Users named only by interactions are created with
/// unknown demographics.
/// </summary>
internal sealed class ImportedDatasetBuilder
{
    private readonly Dictionary<long, CatalogItem> _items = [];
    private readonly Dictionary<long, UserDemographics> _users = [];
    private readonly List<Interaction> _interactions = [];
    private readonly HashSet<long> _interactingUsers = [];

    public ImportReport Report { get; } = new();

    public bool AddItem(string file, long line, CatalogItem item)
    {
        if (!_items.TryAdd(item.Id, item))
        {
            Report.Reject(file, line, $"duplicate item id {item.Id}");
            return false;
        }
        return true;
    }

    public bool AddUser(string file, long line, UserDemographics user)
    {
        if (!_users.TryAdd(user.Id, user))
        {
            Report.Reject(file, line, $"duplicate user id {user.Id}");
            return false;
        }
        return true;
    }

    public bool AddInteraction(string file, long line, Interaction interaction)
    {
        if (!_items.ContainsKey(interaction.ItemId))
        {
            Report.Reject(file, line, $"unknown item id {interaction.ItemId}");
            return false;
        }
        _interactions.Add(interaction);
        _interactingUsers.Add(interaction.UserId);
        return true;
    }

    public void Reject(string file, long line, string reason) => Report.Reject(file, line, reason);

    public void Summarize(string file, long read, long accepted) => Report.Summarize(file, read, accepted);

    public ImportResult Build()
    {
        var implicitUsers = 0;
        foreach (var userId in _interactingUsers)
        {
            if (_users.TryAdd(userId, new UserDemographics(userId, null, null, null)))
            {
                implicitUsers++;
            }
        }
        Report.ImplicitUsers = implicitUsers;
        var items = _items.Values.OrderBy(i => i.Id).ToArray();
        var users = _users.Values.OrderBy(u => u.Id).ToArray();
        return new ImportResult(new Dataset(items, users, [.. _interactions]), Report);
    }

    /// <summary>Non-blank lines of a file with their 1-based line numbers.</summary>
    public static IEnumerable<(long Line, string Text)> ReadLines(string path, Encoding encoding)
    {
        using var reader = new StreamReader(path, encoding, detectEncodingFromByteOrderMarks: true);
        long number = 0;
        while (reader.ReadLine() is { } text)
        {
            number++;
            if (!string.IsNullOrWhiteSpace(text))
            {
                yield return (number, text);
            }
        }
    }

    public static string RequireFile(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        if (!File.Exists(path))
        {
            throw new DatasetImportException($"Missing file '{name}' in '{directory}'.");
        }
        return path;
    }

    public static DateTime FromUnixSeconds(long seconds) => DateTime.UnixEpoch.AddSeconds(seconds);
}
