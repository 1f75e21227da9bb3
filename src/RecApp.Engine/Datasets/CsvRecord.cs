using System.Text;

namespace RecApp.Engine.Datasets;

/// <summary>
/// Splits one CSV line (RFC 4180 quoting: fields in double quotes may hold the separator, <c>""</c> is a quote).
/// Records spanning several lines are not supported: such a line is reported as malformed.
/// </summary>
internal static class CsvRecord
{
    public static bool TrySplit(string line, char separator, List<string> fields, out string? error)
    {
        fields.Clear();
        var field = new StringBuilder();
        var i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        error = "unterminated quoted field";
                        return false;
                    }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                if (i < line.Length && line[i] != separator)
                {
                    error = "unexpected text after a closing quote";
                    return false;
                }
            }
            else
            {
                while (i < line.Length && line[i] != separator)
                {
                    field.Append(line[i++]);
                }
            }
            fields.Add(field.ToString());
            if (i >= line.Length)
            {
                error = null;
                return true;
            }
            i++; // the separator
        }
    }
}
