namespace UserStream.Ingest.Ledger;

internal static class PositionalParameters
{
    /// <summary>Adds <paramref name="values"/> as the command's <c>$1</c>, <c>$2</c>… parameters, in order.</summary>
    public static void AddPositional(this NpgsqlCommand command, params object[] values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
    }
}
